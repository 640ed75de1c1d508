"""moto_server with DynamoDB's requests served one at a time.

moto_server answers each request on its own thread and checks an UpdateItem's condition and applies its update in
separate steps, so two conditional writes racing on one item can both pass (seen: a worker's outcome undoing a
DEAD written beside it). DynamoDB applies each conditional write atomically; our leases, versions and lanes rely
on that. Holding one lock over every DynamoDB request gives moto the same behaviour. SQS and the other services
stay threaded (a long-polling ReceiveMessage must not hold the others up).
"""

import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.server import main

dynamodb = threading.Lock()
serve = DomainDispatcherApplication.__call__


def serially(self, environ, start_response):
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
        with dynamodb:
            # The body is produced inside the lock too: a Flask response may be lazy.
            return list(serve(self, environ, start_response))
    return serve(self, environ, start_response)


DomainDispatcherApplication.__call__ = serially
main(sys.argv[1:])
