"""scripts/includes/keys.lua must name every key exactly as pykue/keys.py does.

The include is inlined into a tiny EVAL (as pykue.scripts.source inlines it into the real
transitions) and its answers are compared with the Python ones.
"""
from __future__ import annotations

import pytest

from pykue.keys import STATES, Keys, zid
from pykue.scripts import SCRIPT_DIR

PROBE = """
local base, id, jtype, state, word, kind, minute = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
return {
  job_key(base, id), log_key(base, id), state_key(base, state), type_state_key(base, jtype, state),
  tokens_key(base, jtype), search_object_key(base, id), search_word_key(base, word), claims_key(base),
  metric_key(base, kind, minute), zid(id), zid(tonumber(id)), table.concat(STATES, ",")
}
"""


def keys_lua() -> str:
    return (SCRIPT_DIR / "includes" / "keys.lua").read_text()


@pytest.mark.parametrize("prefix", ["q", "{q}", "my-app.jobs"])
@pytest.mark.parametrize("job_id", [1, 42, 123, 12345678910])
@pytest.mark.parametrize("job_type", ["email", "a:b", "ünï code"])
def test_lua_and_python_keys_agree(client, prefix, job_id, job_type):
    k = Keys(prefix)
    args = [k.base, job_id, job_type, "failed", "HLW", "complete", 29000000]

    got = client.eval(keys_lua() + PROBE, 0, *args)

    assert got == [
        k.job(job_id), k.log(job_id), k.state("failed"), k.type_state(job_type, "failed"),
        k.tokens(job_type), k.search_object(job_id), k.search_word("HLW"), k.claims,
        k.metric("complete", 29000000), zid(job_id), zid(job_id), ",".join(STATES),
    ]


def test_worker_key_agrees_when_defined(client):
    source = keys_lua()
    if "worker_key" not in source:
        pytest.skip("keys.lua has no worker_key yet")
    k = Keys("q")
    assert client.eval(source + "return worker_key(ARGV[1], ARGV[2])", 0, k.base, "h:1:2") == k.worker_lease("h:1:2")


def test_every_lua_include_is_inlined_once():
    from pykue.scripts import source

    for name in ("save_jobs", "set_state", "set_priority", "remove_job", "log_job", "progress_job"):
        text = source(name)
        assert "@include" not in text
        assert text.count("local function job_key") == 1
