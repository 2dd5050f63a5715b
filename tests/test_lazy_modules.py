"""The API's lazily loaded domain modules are safe to first touch from many threads at once."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor


def test_first_use_from_many_threads_never_sees_a_half_loaded_module(tmp_path, monkeypatch) -> None:
    from distribu_api.lazy import lazy_module

    (tmp_path / "slow_domain_module.py").write_text(
        "import time\nSTARTED = True\ntime.sleep(0.3)\ndef answer():\n    return 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = lazy_module("slow_domain_module")
    barrier = threading.Barrier(20)

    def call(_: int) -> int:
        barrier.wait()
        return module.answer()

    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            assert list(pool.map(call, range(20))) == [42] * 20
    finally:
        sys.modules.pop("slow_domain_module", None)


def test_routers_do_not_load_domain_modules_at_import() -> None:
    import subprocess

    code = ("import sys; import distribu_api.handler; "
            "print(sorted(m for m in ('distribu.catalog', 'distribu.orders', 'distribu.customers', "
            "'distribu.imports', 'distribu.webhooks') if m in sys.modules))")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                               env={**__import__("os").environ, "PYTHONPATH": ":".join(sys.path)})
    assert completed.stdout.strip().splitlines()[-1] == "[]"
