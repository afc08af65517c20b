import matplotlib
import pytest

matplotlib.use("Agg")



@pytest.fixture
def suite2p_module(tmp_path_factory, monkeypatch):
    """The suite2p package (skip when the extra is absent), imported with HOME in a temp folder:
    importing suite2p writes ~/.suite2p/settings."""
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    return pytest.importorskip("suite2p", reason="suite2p extra not installed")
