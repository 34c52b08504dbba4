"""FastAPI: enqueue from an endpoint without blocking the event loop, and await a result.

pip install fastapi uvicorn
PYKUE_REDIS_URL=redis://127.0.0.1:6379/0 uvicorn fastapi_app:app   # from this folder
PYKUE_REDIS_URL=redis://127.0.0.1:6379/0 pykue worker -A web_tasks
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from web_tasks import queue, send_welcome

from pykue import JobFailedError, JobNotFoundError


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    await queue.aclose()  # the event loop's Redis connections


app = FastAPI(lifespan=lifespan)


class Signup(BaseModel):
    email: str
    name: str = "there"


@app.post("/signup", status_code=202)
async def signup(body: Signup) -> dict[str, int]:
    """Enqueue and answer at once: the worker sends the email."""
    job = await send_welcome.adelay(email=body.email, name=body.name)
    return {"job": job.id}


@app.post("/signup/wait")
async def signup_and_wait(body: Signup) -> dict[str, str]:
    """Enqueue and await the result; other requests are served meanwhile."""
    job = await send_welcome.adelay(email=body.email, name=body.name)
    try:
        return await job.await_result(timeout=10)
    except TimeoutError:
        raise HTTPException(504, f"job {job.id} is still running") from None
    except JobFailedError as error:
        raise HTTPException(502, str(error)) from None


@app.get("/jobs/{job_id}")
async def job_state(job_id: int) -> dict[str, object]:
    try:
        job = await queue.aget_job(job_id)
    except JobNotFoundError:
        raise HTTPException(404, f"no job {job_id}") from None
    return {"id": job.id, "state": job.state, "result": job.result}


@app.get("/counts")
async def counts() -> dict[str, int]:
    return await queue.acounts()
