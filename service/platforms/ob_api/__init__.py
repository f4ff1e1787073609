"""The Open Badges 3.0 REST API under ``/ims/ob/v3p0``: credentials (list, upsert), the profile
(read, replace) and the Service Description Document. Errors are ``Imsx_StatusInfo``
(:mod:`service.platforms.ob_api.errors`)."""
