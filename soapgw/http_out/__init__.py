"""HTTP calls to integrators' endpoints: webhook deliveries (``soapgw dispatch``) and the
external authorization advisor (``SOAPGW_AUTHORIZE_URL``)."""
