"""The API's behaviour: thin resolvers that parse, authorize, call a service and map the result."""
