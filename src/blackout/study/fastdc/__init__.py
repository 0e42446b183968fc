"""The fast DC cascade engine: the model (:mod:`.model`, ``DCModel``), its per-model plan
of arrays (:mod:`.plan`), the batch entry (:mod:`.engine`, ``run_cascades``) and the
numba-compiled loop (:mod:`._compiled`, private to this package)."""
