"""Cloud API 3.0 ``faceid`` (2018-03-01): one provider on the ``tc3`` platform."""
