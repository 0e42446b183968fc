"""Monte Carlo sweeps: options and the manifest (:mod:`.options`), one trial
(:mod:`.trial`), the run loop (:mod:`.run`), reading results back (:mod:`.results`),
outcome statistics (:mod:`.stats`), the Parquet store (:mod:`.store`) and executors
(:mod:`.executors`)."""
