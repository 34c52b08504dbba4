"""Django: enqueue on ``transaction.on_commit``, so a rolled-back transaction creates no job,
and the pykue dashboard mounted under /admin/queue/. One file, to show the two patterns; in
a project the view goes in views.py and ``application`` in wsgi.py.

    pip install django
    PYKUE_REDIS_URL=redis://127.0.0.1:6379/0 python django_app.py runserver   # from this folder
    PYKUE_REDIS_URL=redis://127.0.0.1:6379/0 pykue worker -A web_tasks
"""

from __future__ import annotations

import os
import sys
from functools import partial

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "recipe-only-not-a-secret"),
    ALLOWED_HOSTS=["127.0.0.1", "localhost", "testserver"],
    ROOT_URLCONF=__name__,
    DATABASES={
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ.get("DJANGO_DB", "signups.sqlite3")}
    },
    MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402 (after settings.configure)
from django.db import connection, transaction  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402
from django.views.decorators.http import require_POST  # noqa: E402
from web_tasks import queue, send_welcome  # noqa: E402
from werkzeug.middleware.dispatcher import DispatcherMiddleware  # noqa: E402

from pykue.web import create_app as create_dashboard  # noqa: E402


def create_tables() -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS signup (email TEXT PRIMARY KEY, name TEXT NOT NULL)")
        cursor.execute("CREATE TABLE IF NOT EXISTS referral (code TEXT PRIMARY KEY, uses INTEGER NOT NULL)")
        cursor.execute("INSERT OR IGNORE INTO referral (code, uses) VALUES ('FRIEND', 0)")


class UnknownReferral(Exception):
    pass


@csrf_exempt  # a JSON-style API for the recipe; keep Django's CSRF protection for browser forms
@require_POST
def signup(request: HttpRequest) -> JsonResponse:
    email, name = request.POST["email"], request.POST.get("name", "there")
    referral = request.POST.get("referral")
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("INSERT INTO signup (email, name) VALUES (%s, %s)", [email, name])
                # Saved only once the transaction commits: no job for a signup rolled back below.
                transaction.on_commit(partial(send_welcome.delay, email=email, name=name))
                if referral:
                    cursor.execute("UPDATE referral SET uses = uses + 1 WHERE code = %s", [referral])
                    if cursor.rowcount == 0:
                        raise UnknownReferral(referral)
    except UnknownReferral:
        return JsonResponse({"error": f"unknown referral code {referral!r}"}, status=400)
    return JsonResponse({"queued": email}, status=202)


urlpatterns = [path("signup", signup)]

# The dashboard is a WSGI app: mount it in front of Django, under /admin/queue/.
application = DispatcherMiddleware(get_wsgi_application(), {"/admin/queue": create_dashboard(queue, title="Signups")})

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    create_tables()
    if sys.argv[1:2] == ["runserver"]:  # serve `application` (Django's runserver would skip the mount)
        from werkzeug.serving import run_simple

        run_simple("127.0.0.1", 8000, application)
    else:
        execute_from_command_line(sys.argv)
