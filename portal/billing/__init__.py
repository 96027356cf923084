"""The billing core: pure domain code over the models, with no Flask imports."""
