# The plugin as a user without pip enables it (installed, the pytest11 entry point does this).
pytest_plugins = ["syncfake.pytest_plugin"]
