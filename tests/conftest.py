pytest_plugins = ["tests.simfleet.fixtures"]
