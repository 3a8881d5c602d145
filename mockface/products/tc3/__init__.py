"""Cloud API 3.0 (``faceid`` 2018-03-01 and the ``iai`` photo-liveness actions): the
successor of the legacy endpoints.  A protocol package: it imports nothing from ``legacy``."""
