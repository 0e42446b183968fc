"""The numba-compiled parts of the fast DC engine: the cascade loop (:mod:`.loop`), the
island step and slot state (:mod:`.islands`), island splits (:mod:`.split`), Woodbury
rounds (:mod:`.woodbury`) and the linear algebra (:mod:`.linalg`). Private to
:mod:`blackout.study.fastdc`."""
