"""Events loaders: one module per format, discovered by the registry."""
