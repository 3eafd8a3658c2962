"""pytest plugin: the `syncfake` fixture, a private server per test.

    @pytest.mark.syncfake(seed=7, limits={"publish_rate_per_s": 0})
    def test_room(syncfake):
        client = syncfake.twilio_client()

Enable it with `pytest -p syncfake.pytest_plugin`, `pytest_plugins = ["syncfake.pytest_plugin"]`
in a conftest.py, or by installing the package (its pytest11 entry point).
"""

import pytest

from ._server import Syncfake


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "syncfake(**options): options of the test's syncfake server "
        "(seed, clock, limits, account_sid, auth_token, args, server)")


@pytest.fixture
def syncfake(request):
    """A started syncfake server for this test, stopped (and checked) afterwards."""
    marker = request.node.get_closest_marker("syncfake")
    options = dict(marker.kwargs) if marker else {}
    fake = Syncfake(**options).start()
    try:
        yield fake
    finally:
        fake.stop()
