"""scripts/includes/keys.lua must name every key exactly as pykue/keys.py does, and every
script must declare its keys.

The include is inlined into a tiny EVAL (as pykue.lua.source inlines it into the real
transitions) and each Lua key function is compared with its Python twin. A key function
added to keys.lua without a twin here fails the test: add it to LUA_TWINS. The keys a
script receives in KEYS are Python's alone; Lua derives only those of the jobs and types
it finds, from the prefix.
"""

from __future__ import annotations

import re

import pytest

from pykue.keys import STATES, Keys, zid
from pykue.lua import SCRIPT_DIR, source

ID, TYPE, STATE, WORD, WORKER = "{id}", "{type}", "failed", "HLW", "h:1:2"

# Lua function -> (its arguments after `base`, the Python spelling of the same key)
LUA_TWINS = {
    "job_key": ([ID], lambda k, i, t: k.job(i)),
    "log_key": ([ID], lambda k, i, t: k.log(i)),
    "state_key": ([STATE], lambda k, i, t: k.state(STATE)),
    "type_state_key": ([TYPE, STATE], lambda k, i, t: k.type_state(t, STATE)),
    "tokens_key": ([TYPE], lambda k, i, t: k.tokens(t)),
    "search_object_key": ([ID], lambda k, i, t: k.search_object(i)),
    "search_word_key": ([WORD], lambda k, i, t: k.search_word(WORD)),
    "type_stats_key": ([TYPE], lambda k, i, t: k.type_stats(t)),
    "worker_key": ([WORKER], lambda k, i, t: k.worker_lease(WORKER)),
    "unique_key": ([WORD], lambda k, i, t: k.unique(WORD)),
    "cancel_key": ([WORKER], lambda k, i, t: k.cancel_requests(WORKER)),
    "finished_key": ([TYPE, STATE], lambda k, i, t: k.finished(t, STATE)),
    "limits_key": ([], lambda k, i, t: k.limits),
    "rate_key": ([TYPE], lambda k, i, t: k.rate(t)),
    "all_jobs_key": ([], lambda k, i, t: k.jobs),
    "flow_key": ([ID], lambda k, i, t: k.flow(i)),
}


def keys_lua() -> str:
    return (SCRIPT_DIR / "includes" / "keys.lua").read_text() + (SCRIPT_DIR / "includes" / "zid.lua").read_text()


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
    extras = ["zid(ARGV[2])", "zid(tonumber(ARGV[2]))", "zid_id(zid(ARGV[2]))", 'table.concat(STATES, ",")']
    states = [f"state_keys(1).{s}" for s in STATES]
    probe = "return {" + ", ".join(calls + extras + states) + "}"

    got = client.eval(keys_lua() + "\n" + probe, len(k.states), *k.states, k.base, job_id, job_type)

    expected = [LUA_TWINS[name][1](k, job_id, job_type) for name in names]
    assert got == expected + [zid(job_id), zid(job_id), str(job_id), ",".join(STATES)] + list(k.states)


def test_the_core_key_functions_are_all_there():
    assert {"job_key", "log_key", "state_key", "type_state_key", "tokens_key"} <= set(lua_key_functions())


def script_names() -> list[str]:
    return sorted(path.stem for path in SCRIPT_DIR.glob("*.lua"))


def test_every_lua_include_is_inlined_once():
    for name in script_names():
        text = source(name)
        assert "@include" not in text
        functions = re.findall(r"local function (\w+)", text)
        assert len(functions) == len(set(functions)), name
    assert source("save_jobs").count("local function job_key") == 1


def declared_keys(header: str) -> set[int]:
    """KEYS[i] and KEYS[i..j] as a header lists them."""
    declared = {int(i) for i in re.findall(r"KEYS\[(\d+)\]", header)}
    for first, last in re.findall(r"KEYS\[(\d+)\.\.(\d+)\]", header):
        declared.update(range(int(first), int(last) + 1))
    return declared


def used_keys(body: str) -> set[int]:
    """KEYS[i] read by a script's body, and the five state sets state_keys(i) reads."""
    used = {int(i) for i in re.findall(r"KEYS\[(\d+)\]", body)}
    for first in re.findall(r"state_keys\((\d+)\)", body):
        used.update(range(int(first), int(first) + len(STATES)))
    return used


@pytest.mark.parametrize("name", script_names())
def test_every_script_opens_with_its_keys_argv_and_returns(name):
    text = (SCRIPT_DIR / f"{name}.lua").read_text()
    assert text.startswith("--[[")
    header, body = text[: text.index("]]")], text[text.index("]]") :]
    assert "KEYS[1]" in header and "ARGV[1]" in header and "Returns" in header
    assert used_keys(body) == declared_keys(header)


def test_no_script_names_a_key_of_its_own():
    """Key names are spelt in keys.py and includes/keys.lua only: a script may not build one."""
    for path in [*SCRIPT_DIR.glob("*.lua"), *SCRIPT_DIR.glob("includes/*.lua")]:
        if path.name != "keys.lua":
            assert not re.search(r'\.\. *"(job|jobs|search|pykue|stats)[:"]', path.read_text()), path
