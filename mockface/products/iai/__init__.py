"""Cloud API 3.0 ``iai`` photo liveness (2018-03-01 and 2020-03-03): one provider on the
``tc3`` platform."""
