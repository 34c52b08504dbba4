"""The Functions library form of a hot script (pykue/lua.py): what FUNCTION LOAD is given."""

from __future__ import annotations

import pytest

from pykue import lua
from pykue.lua import LuaScript

HOT = ("save_jobs", "claim_jobs", "claim_woken", "complete_jobs", "fail_job")


@pytest.mark.parametrize("name", HOT)
def test_a_hot_script_is_a_library_registering_its_function(name):
    script = LuaScript(name, as_function=True)
    assert script.function is not None and script.library is not None
    assert script.function.startswith(f"pykue_{name}_")
    assert script.library.startswith(f"#!lua name={script.function}\n")
    assert f"redis.register_function('{script.function}', function(keys, args)" in script.library
    # the includes run once, at load; the body at each call, after KEYS and ARGV are set
    assert script.library.index("local function job_key(") < script.library.index("local function main()")
    assert not any(line.lstrip().startswith("--") for line in script.library.splitlines())  # no comment lines


def test_the_per_call_state_of_an_include_is_reset_before_each_call():
    library = LuaScript("complete_jobs", as_function=True).library
    assert "KEYS, ARGV = keys, args reset_job_stats() " in library


def test_a_library_name_changes_with_its_code_only():
    assert LuaScript("save_jobs", as_function=True).function == LuaScript("save_jobs", as_function=True).function
    assert LuaScript("save_jobs", as_function=True).function != LuaScript("fail_job", as_function=True).function
    assert LuaScript("log_job").function is None and LuaScript("log_job").library is None


def test_an_include_after_code_is_refused(tmp_path, monkeypatch):
    (tmp_path / "includes").mkdir()
    (tmp_path / "includes" / "x.lua").write_text("local function x() return 1 end\n")
    (tmp_path / "late.lua").write_text('--[[ header ]]\nlocal a = 1\n--- @include "x"\nreturn a\n')
    monkeypatch.setattr(lua, "SCRIPT_DIR", tmp_path)
    with pytest.raises(ValueError, match="late.lua: an include after code"):
        lua.library.__wrapped__("late", "f")
