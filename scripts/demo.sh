#!/usr/bin/env bash
# Start a Celery worker, set up the demo through it, then serve the app until Ctrl+C.
set -euo pipefail
host=${1:-127.0.0.1}
port=${2:-8000}
cd "$(dirname "$0")/.."
mkdir -p var/log

.venv/bin/celery -A config worker --loglevel=INFO --concurrency=1 >var/log/worker.log 2>&1 &
worker=$!
trap 'kill "$worker" 2>/dev/null || true; wait "$worker" 2>/dev/null || true' EXIT
echo "Celery worker started (pid $worker, log var/log/worker.log)."

.venv/bin/python manage.py demo_setup --url "http://$host:$port/"
# Register the demo model and let the worker predict every case.
.venv/bin/python manage.py demo_ai
echo
echo "Serving on http://$host:$port/ - press Ctrl+C to stop the server and the worker."
.venv/bin/python manage.py runserver --noreload "$host:$port"
