"""syncfake: start a private syncfake-server from a Python test and drive it.

    from syncfake import start_syncfake

    with start_syncfake(seed=7) as fake:
        client = fake.twilio_client()      # twilio-python, pointed at the fake
        ...

With pytest: the ``syncfake`` fixture and ``@pytest.mark.syncfake(seed=...)`` (see
syncfake.pytest_plugin). Standard library only. See README.md.
"""

from ._server import Syncfake, SyncfakeError, find_server, start_syncfake

__all__ = ["Syncfake", "SyncfakeError", "find_server", "start_syncfake"]
__version__ = "0.1.0"
