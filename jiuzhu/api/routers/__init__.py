"""One router per resource; each stays thin: parse, call a selector or service, shape."""
