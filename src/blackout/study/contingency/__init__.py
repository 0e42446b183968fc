"""Contingency studies on the fast DC engine: N-1 screening (:mod:`.n1`), the closed-form
bridge outages (:mod:`.bridges`), N-k and random chemistry (:mod:`.nk`) and the AC check
of the worst outages (:mod:`.ac_verify`, on the fast-decoupled solver of :mod:`.fdpf`)."""
