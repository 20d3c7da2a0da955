"""The hidden checks, one pytest module per topic: ``test_NN_module_name.py``."""
