"""scripts/includes/keys.lua must name every key exactly as pykue/keys.py does.

The include is inlined into a tiny EVAL (as pykue.scripts.source inlines it into the real
transitions) and each Lua key function is compared with its Python twin. A key function
added to keys.lua without a twin here fails the test: add it to LUA_TWINS.
"""
from __future__ import annotations

import re

import pytest

from pykue.keys import STATES, Keys, zid
from pykue.scripts import SCRIPT_DIR, source

ID, TYPE, STATE, WORD, WORKER, KIND, MINUTE = "{id}", "{type}", "failed", "HLW", "h:1:2", "complete", 29000000

# Lua function -> (its arguments after `base`, the Python spelling of the same key)
LUA_TWINS = {
    "ids_key": ([], lambda k, i, t: k.ids),
    "types_key": ([], lambda k, i, t: k.types),
    "jobs_key": ([], lambda k, i, t: k.jobs),
    "events_key": ([], lambda k, i, t: k.events),
    "work_time_key": ([], lambda k, i, t: k.work_time),
    "paused_key": ([], lambda k, i, t: k.paused),
    "job_key": ([ID], lambda k, i, t: k.job(i)),
    "log_key": ([ID], lambda k, i, t: k.log(i)),
    "state_key": ([STATE], lambda k, i, t: k.state(STATE)),
    "type_state_key": ([TYPE, STATE], lambda k, i, t: k.type_state(t, STATE)),
    "tokens_key": ([TYPE], lambda k, i, t: k.tokens(t)),
    "search_object_key": ([ID], lambda k, i, t: k.search_object(i)),
    "search_word_key": ([WORD], lambda k, i, t: k.search_word(WORD)),
    "claims_key": ([], lambda k, i, t: k.own + "claims"),
    "worker_key": ([WORKER], lambda k, i, t: k.worker_lease(WORKER)),
    "wake_key": ([WORKER], lambda k, i, t: k.wake(WORKER)),
    "metric_key": ([KIND, MINUTE], lambda k, i, t: k.metric(KIND, MINUTE)),
}


def keys_lua() -> str:
    return (SCRIPT_DIR / "includes" / "keys.lua").read_text()


def lua_key_functions() -> list[str]:
    return re.findall(r"local function (\w+_key)\(", keys_lua())


def test_every_lua_key_function_has_a_python_twin():
    unknown = set(lua_key_functions()) - set(LUA_TWINS)
    assert not unknown, f"keys.lua defines {sorted(unknown)}: add them to LUA_TWINS"


@pytest.mark.parametrize("prefix", ["q", "{q}", "my-app.jobs"])
@pytest.mark.parametrize("job_id", [1, 42, 12345678910])
@pytest.mark.parametrize("job_type", ["email", "a:b", "ünï code"])
def test_lua_and_python_keys_agree(client, prefix, job_id, job_type):
    k = Keys(prefix)
    names = lua_key_functions()
    calls = []
    for name in names:
        args = ", ".join(["ARGV[1]"] + [{ID: "ARGV[2]", TYPE: "ARGV[3]"}.get(a, repr(a)) for a in LUA_TWINS[name][0]])
        calls.append(f"{name}({args})")
    probe = "return {" + ", ".join(calls + ["zid(ARGV[2])", "zid(tonumber(ARGV[2]))", 'table.concat(STATES, ",")']) + "}"

    got = client.eval(keys_lua() + "\n" + probe, 0, k.base, job_id, job_type)

    expected = [LUA_TWINS[name][1](k, job_id, job_type) for name in names]
    assert got == expected + [zid(job_id), zid(job_id), ",".join(STATES)]


def test_the_core_key_functions_are_all_there():
    assert {"job_key", "log_key", "state_key", "type_state_key", "tokens_key"} <= set(lua_key_functions())


def test_every_lua_include_is_inlined_once():
    for name in ("save_jobs", "set_state", "set_priority", "remove_job", "log_job", "progress_job"):
        text = source(name)
        assert "@include" not in text
        assert text.count("local function job_key") == 1
