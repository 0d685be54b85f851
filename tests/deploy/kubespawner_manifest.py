"""Builds the pod of one session with RenkuKubeSpawner, without a Kubernetes cluster.

Driven by tests/deploy/kubespawner.test.ts. Reads a JSON request on stdin:
`{"config": {...traitlets config...}, "user": "...", "server": "...", "options": {...}}` (or a
list of them, answered by a list) and prints JSON: the pod manifest as the API server would
receive it, the server's environment and the settings the options chose, or the message of the
refusal (`refused`) and its stage.

The spawner is made as KubeSpawner's own tests make theirs (a stand-in user and ORM spawner, a
real `Hub`), under a kubeconfig whose API server address nothing listens on: nothing here
calls the Kubernetes API, and a call would fail rather than reach anything.

With the argument `reserved`, prints the reserved environment names of this spawner and of the
local stack's (stack/jupyterhub/renku_spawner.py) instead; with `steps`, the sessions subgraph's
step of each Kubernetes event in the JSON list on stdin.
"""

import asyncio
import json
import os
import sys
from unittest.mock import Mock

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(root, 'deploy', 'jupyterhub'))


def reserved():
    sys.path.insert(0, os.path.join(root, 'stack', 'jupyterhub'))
    import renku_kubespawner
    import renku_spawner

    def listed(module):
        return {
            'names': sorted(module.reserved_environment),
            'prefixes': sorted(module.reserved_environment_prefixes),
        }

    return {'kubernetes': listed(renku_kubespawner), 'local': listed(renku_spawner)}


class User(Mock):
    """The hub's user as a spawner reads it; KubeSpawner's tests use the same stand-in."""

    def __init__(self, name):
        from jupyterhub.objects import Server

        super().__init__()
        self.name = name
        self.id = 7
        self.server = Server()

    @property
    def escaped_name(self):
        return self.name

    @property
    def url(self):
        return f'/user/{self.name}/'


class OrmSpawner(Mock):
    server = None

    def __init__(self, name):
        super().__init__()
        self.name = name


async def build(request):
    from jupyterhub.objects import Hub
    from kubernetes_asyncio.client import ApiClient
    from renku_kubespawner import RenkuKubeSpawner
    from traitlets.config import Config

    spawner = RenkuKubeSpawner(
        config=Config(request['config']),
        user=User(request['user']),
        hub=Hub(),
        orm_spawner=OrmSpawner(request['server']),
        api_token='test-api-token',
        oauth_client_id='jupyterhub-user-test',
        _mock=True,
    )
    options = request['options']
    spawner.user_options = options

    # As the hub does: apply_user_options before the start (an HTTP 400 when it refuses),
    # then KubeSpawner's start loads the options before it builds the pod.
    try:
        await spawner._run_apply_user_options(options)
    except Exception as error:
        return refusal(error, 'apply')
    try:
        await spawner.load_user_options()
    except Exception as error:
        return refusal(error, 'start')

    pod = await spawner.get_pod_manifest()
    async with ApiClient() as client:
        manifest = client.sanitize_for_serialization(pod)
    return {
        'pod': manifest,
        'env': spawner.get_env(),
        'image': spawner.image,
        'defaultUrl': spawner.default_url,
        'storageCapacity': spawner.storage_capacity,
        'pvc': client.sanitize_for_serialization(spawner.get_pvc_manifest()),
    }


def refusal(error, stage):
    """What the hub would tell: a SpawnFailure's message, else the error as text."""
    return {'refused': getattr(error, 'jupyterhub_message', None) or str(error), 'stage': stage}


def main():
    if sys.argv[1:] == ['reserved']:
        print(json.dumps(reserved()))
        return
    if sys.argv[1:] == ['steps']:
        from renku_kubespawner import step_of_event

        print(json.dumps([step_of_event(event) for event in json.load(sys.stdin)]))
        return
    request = json.load(sys.stdin)
    if isinstance(request, list):
        # Several starts in one process: the imports take seconds, a start milliseconds.
        print(json.dumps(asyncio.run(build_each(request))))
    else:
        print(json.dumps(asyncio.run(build(request))))


async def build_each(requests):
    return [await build(request) for request in requests]


if __name__ == '__main__':
    main()
