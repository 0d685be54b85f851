"""Renku sessions on Kubernetes: KubeSpawner honouring the sessions subgraph's start options.

The hub of the Zero to JupyterHub chart loads this file (docs/operations.md, section 6) and
runs every named server with `RenkuKubeSpawner`. It keeps the contract of the local stack's
spawner (stack/jupyterhub/renku_spawner.py): the start options the sessions subgraph sends
(`project`, `commit`, `branch`, `repository`, `image`, `resourceClass`, `environment`) choose
the image from an allow-list, the resources of a resource class, the variables of the server,
and a checkout of the project at that commit in the server's working folder, done by an init
container before the server starts.

A single file on purpose: the chart mounts it beside its jupyterhub_config.py (hub.extraFiles),
which puts that folder on the Python path. It needs only JupyterHub and KubeSpawner.
"""

import re

from jupyterhub.spawner import SpawnException
from kubernetes_asyncio.client.models import (
    V1Container,
    V1EmptyDirVolumeSource,
    V1EnvVar,
    V1Volume,
    V1VolumeMount,
)
from kubespawner import KubeSpawner
from traitlets import Dict, List, Unicode, default

# What the sessions subgraph sends: strings, except `environment` (names to string values).
string_options = {'project', 'commit', 'branch', 'image', 'resourceClass', 'repository'}
known_options = string_options | {'environment'}

environment_name = re.compile(r'^[A-Za-z_][A-Za-z0-9_]{0,127}$')
# Set by the hub or the spawner; a session may not replace them. The same list as the local
# spawner's and the sessions subgraph's (tests/deploy/kubespawner.test.ts keeps them equal).
reserved_environment = {
    'HOME',
    'PATH',
    'USER',
    'SHELL',
    'MEM_LIMIT',
    'CPU_LIMIT',
    'MEM_GUARANTEE',
    'CPU_GUARANTEE',
    'MALLOC_ARENA_MAX',
    'VIRTUAL_ENV',
    'JUPYTER_IMAGE',
    'JUPYTER_IMAGE_SPEC',
}
reserved_environment_prefixes = ('JUPYTERHUB_', 'JPY_')

# Always applied with fullmatch: `$` alone would let a value end in a newline.
commit_id = re.compile(r'^[0-9a-fA-F]{7,64}$')
branch_name = re.compile(r'^(?!-)(?!.*\.\.)(?!.*//)[A-Za-z0-9._/+-]{1,255}$')
# No quotes, spaces or braces: the URL reaches git as one argument and never a template. No
# user or password before the host either: the URL is shown in logs and in the pod's spec.
repository_url = re.compile(r'^https?://[A-Za-z0-9.:-]+(?:/[A-Za-z0-9._~:/@%+-]*)?$')
gib = 1024**3

checkout_container = 'checkout'
# POSIX sh, run by the init container. Everything the caller chose arrives as a variable and is
# always quoted, never spliced into the script.
checkout_script = """\
set -u
if [ -d "$RENKU_TARGET/.git" ]; then
  echo "Resuming the checkout in $RENKU_TARGET"
  exit 0
fi
# Cloned and checked out beside the target, then moved into place: a start that failed or was
# stopped half-way leaves nothing the next start would take for a finished checkout.
staging="$RENKU_TARGET.checkout"
rm -rf "$staging"
rmdir "$RENKU_TARGET" 2>/dev/null
if [ -e "$RENKU_TARGET" ]; then
  echo "could not check out into $RENKU_TARGET: it exists and is not a checkout" >&2
  exit 1
fi
echo "Cloning $RENKU_REPOSITORY"
if ! git clone --quiet --no-checkout -- "$RENKU_REPOSITORY" "$staging"; then
  echo "could not clone $RENKU_REPOSITORY" >&2
  rm -rf "$staging"
  exit 1
fi
cd "$staging" || exit 1
if [ "$(git cat-file -t "$RENKU_COMMIT" 2>/dev/null)" != commit ]; then
  echo "could not check out commit $RENKU_COMMIT of $RENKU_REPOSITORY:" \
    "the commit is not in the repository" >&2
  cd / && rm -rf "$staging"
  exit 1
fi
echo "Checking out $RENKU_COMMIT"
if [ -n "$RENKU_BRANCH" ]; then
  set -- -B "$RENKU_BRANCH"
else
  set -- --detach
fi
if ! git checkout --quiet "$@" "$RENKU_COMMIT"; then
  echo "could not check out commit $RENKU_COMMIT" >&2
  cd / && rm -rf "$staging"
  exit 1
fi
cd / && mv "$staging" "$RENKU_TARGET"
"""


class SpawnFailure(SpawnException):
    """A start that cannot succeed, for a reason the user can act on; shown as it is."""

    def __init__(self, message, *, reason):
        super().__init__(message, reason=reason)
        self.jupyterhub_message = message


def check_user_options(spawner, user_options):
    """Refuses start options this spawner would silently ignore or misread (before the start)."""
    unknown = sorted(set(user_options) - known_options)
    if unknown:
        raise SpawnFailure(f'unknown start options: {", ".join(unknown)}', reason='options')
    for key in string_options:
        value = user_options.get(key)
        if value is not None and not isinstance(value, str):
            raise SpawnFailure(f'start option {key} must be a string', reason='options')
    check_environment(user_options.get('environment') or {})


def check_environment(environment):
    """Names only in messages: values may be secrets."""
    if not isinstance(environment, dict):
        raise SpawnFailure('start option environment must be an object', reason='options')
    for name, value in environment.items():
        if not environment_name.fullmatch(name) or not isinstance(value, str):
            raise SpawnFailure(
                f'environment variable {name!r} needs a name of letters, digits and _ '
                'and a string value',
                reason='options',
            )
        if name in reserved_environment or name.startswith(reserved_environment_prefixes):
            raise SpawnFailure(
                f'environment variable {name} is set by the session itself', reason='options'
            )


def check_resource_classes(config):
    """The classes by name and the default's name, from the sessions subgraph's format.

    Raises ValueError naming the fault; the same checks as the local spawner's file reader.
    """
    classes = {}
    for entry in config.get('classes') or []:
        name = entry.get('name')
        if not isinstance(name, str) or not name:
            raise ValueError('every resource class needs a name')
        for key in ('cpu', 'memoryGb', 'storageGb'):
            value = entry.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f'resource class {name} needs a positive {key}')
        url = entry.get('defaultUrl')
        if not isinstance(url, str) or not url.startswith('/'):
            raise ValueError(f'resource class {name} needs a defaultUrl starting with /')
        classes[name] = entry
    if config.get('default') not in classes:
        raise ValueError('default must name one of the resource classes')
    return classes, config['default']


def within(repository, prefix):
    """Whether the URL starts with the prefix at a path boundary: the prefix
    `https://gitlab.example.org` does not admit `https://gitlab.example.org.evil.example/`."""
    rest = repository[len(prefix) :]
    return repository.startswith(prefix) and (prefix.endswith('/') or rest[:1] in ('', '/'))


def repository_folder(repository):
    """The checkout's folder: the repository's last path segment, as the local spawner names it."""
    base = repository.rstrip('/').rsplit('/', 1)[-1]
    base = base[:-4] if base.endswith('.git') else base
    safe = re.sub(r'[^A-Za-z0-9._@-]', '_', base or 'project')
    return '_' + safe if safe.startswith('.') else safe


def step_of_event(event):
    """The sessions subgraph's step for a Kubernetes event of the pod, or None.

    Events name the container they are about in `involvedObject.fieldPath`, e.g.
    `spec.initContainers{checkout}`; events of the pod itself (scheduling) name none.
    """
    field_path = ((event or {}).get('involvedObject') or {}).get('fieldPath') or ''
    if field_path == f'spec.initContainers{{{checkout_container}}}':
        return 'checkout'
    if field_path.startswith('spec.containers{'):
        return 'server'
    return None


class RenkuKubeSpawner(KubeSpawner):
    """KubeSpawner for named servers started by the sessions subgraph.

    Configured like KubeSpawner (the chart's `singleuser.*` still apply: they are the defaults
    a session's options replace), plus the settings below.
    """

    allowed_images = List(
        Unicode(),
        config=True,
        help="""Images a session may name in its `image` option, as full references.

        Default: none, so every session runs the chart's `singleuser.image` (KubeSpawner.image),
        which is always allowed.""",
    )
    resource_classes = Dict(
        config=True,
        help="""The resource classes, in the sessions subgraph's format (`default` and
        `classes` with `name`, `cpu`, `memoryGb`, `storageGb`, `defaultUrl`): give it the same
        value as the renku-supergraph chart's `sessions.resourceClasses`. Required.""",
    )
    workspace_path = Unicode(
        '/home/jovyan',
        config=True,
        help="""The server's working folder, where the project is checked out. The volume
        mounted there (the chart's `singleuser.storage`) is mounted in the checkout container
        too; without one, an emptyDir is, and the work is lost with the pod.
        Default `/home/jovyan`, the chart's `singleuser.storage.homeMountPath`.""",
    )
    checkout_image = Unicode(
        '',
        config=True,
        help="""Image of the init container that clones the repository; it needs `sh` and
        `git`. Default '': the session's own image.""",
    )
    repository_prefixes = List(
        Unicode(),
        config=True,
        help="""URL prefixes a session's repository must start with, e.g.
        `https://gitlab.example.org/`. Default: none, any http(s) URL.""",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The configured image: a start that names none gets it, not the previous start's.
        self._default_image = self.image

    @default('apply_user_options')
    def _default_apply_user_options(self):
        return check_user_options

    async def load_user_options(self):
        # KubeSpawner's own profiles first (none in a Renku hub): a session's options win.
        await super().load_user_options()
        self._apply_session_options(self.user_options or {})

    def _apply_session_options(self, options):
        if not self.name or not options.get('project'):
            raise SpawnFailure('sessions are named servers started for a project', reason='options')
        check_user_options(self, options)

        image = options.get('image') or self._default_image
        allowed = {self._default_image, *self.allowed_images}
        if image not in allowed:
            known = ', '.join(sorted(allowed))
            raise SpawnFailure(
                f'image "{image}" is not available here (available: {known})', reason='image'
            )
        self.image = image

        chosen = self._resource_class(options.get('resourceClass'))
        memory = int(chosen['memoryGb'] * gib)
        # Guarantee and limit alike: a session gets what its class promises, and no more.
        self.mem_guarantee = self.mem_limit = memory
        self.cpu_guarantee = self.cpu_limit = float(chosen['cpu'])
        # The size of the volume when it is created; a volume that exists keeps its size.
        self.storage_capacity = f'{chosen["storageGb"]:g}Gi'
        self.default_url = chosen['defaultUrl']

        self._session_environment = dict(options.get('environment') or {})
        self._checkout = self._checkout_of(options)

    def _resource_class(self, name):
        try:
            classes, default_name = check_resource_classes(self.resource_classes)
        except (AttributeError, TypeError, ValueError) as error:
            self.log.error('RenkuKubeSpawner.resource_classes unusable: %s', error)
            raise SpawnFailure(
                'the hub cannot read its resource classes; ask its operator', reason='config'
            ) from None
        chosen = classes.get(name or default_name)
        if chosen is None:
            known = ', '.join(sorted(classes))
            raise SpawnFailure(
                f'resource class "{name}" does not exist (available: {known})',
                reason='resourceClass',
            )
        return chosen

    def _checkout_of(self, options):
        repository = options.get('repository')
        if not repository:
            return None
        commit = options.get('commit')
        branch = options.get('branch') or ''
        # The URL first: the other messages name it, and they reach the hub's log.
        if not repository_url.fullmatch(repository) or (
            self.repository_prefixes
            and not any(within(repository, prefix) for prefix in self.repository_prefixes)
        ):
            # Without a user or password it may carry.
            shown = re.sub(r'^([a-z]+://)[^/]*@', r'\1', repository)
            raise SpawnFailure(f'repository {shown} is not one this hub clones', reason='checkout')
        if not commit or not commit_id.fullmatch(commit):
            raise SpawnFailure(f'a commit is needed to check out {repository}', reason='checkout')
        if branch and not branch_name.fullmatch(branch):
            raise SpawnFailure(f'branch {branch!r} is not a valid branch name', reason='checkout')
        return {'repository': repository, 'commit': commit, 'branch': branch}

    def get_env(self):
        env = super().get_env()
        # After the hub's own: reserved names were refused, so nothing of the hub's is
        # replaced. Not through KubeSpawner.environment, which would expand `{...}` in values.
        # Kubernetes expands `$(NAME)` in a value and reads `$$` as `$`: doubling every `$`
        # keeps the value as it was given.
        session = getattr(self, '_session_environment', {})
        env.update({name: value.replace('$', '$$') for name, value in session.items()})
        return env

    async def get_pod_manifest(self):
        pod = await super().get_pod_manifest()
        checkout = getattr(self, '_checkout', None)
        if checkout:
            self._add_checkout(pod, checkout)
        return pod

    def _add_checkout(self, pod, checkout):
        """Adds the init container to the built pod.

        Added here rather than through KubeSpawner.init_containers, which expands `{...}`
        templates in every string: the values come from the caller and stay as they are.
        """
        server = pod.spec.containers[0]
        mount = next(
            (m for m in server.volume_mounts or [] if m.mount_path == self.workspace_path), None
        )
        if mount is None:
            # No storage configured: the checkout still reaches the server, for the pod's life.
            volume = V1Volume(name='renku-workspace', empty_dir=V1EmptyDirVolumeSource())
            mount = V1VolumeMount(name=volume.name, mount_path=self.workspace_path)
            pod.spec.volumes = [*(pod.spec.volumes or []), volume]
            server.volume_mounts = [*(server.volume_mounts or []), mount]

        target = f'{self.workspace_path.rstrip("/")}/{repository_folder(checkout["repository"])}'
        variables = {
            'RENKU_REPOSITORY': checkout['repository'],
            'RENKU_COMMIT': checkout['commit'],
            'RENKU_BRANCH': checkout['branch'],
            'RENKU_TARGET': target,
            # Never wait for a password nobody will type.
            'GIT_TERMINAL_PROMPT': '0',
            'HOME': '/tmp',
        }
        container = V1Container(
            name=checkout_container,
            image=self.checkout_image or self.image,
            image_pull_policy=server.image_pull_policy,
            command=['sh', '-c', checkout_script],
            env=[V1EnvVar(name=name, value=value) for name, value in variables.items()],
            volume_mounts=[mount],
            working_dir='/tmp',
            # As the server's user, so that the server owns its checkout.
            security_context=server.security_context,
            resources=server.resources,
            # git's last words become the reason Kubernetes shows for a failed checkout.
            termination_message_policy='FallbackToLogsOnError',
        )
        # After the chart's own init containers (e.g. the one blocking cloud metadata).
        pod.spec.init_containers = [*(pod.spec.init_containers or []), container]

    async def progress(self):
        # The step each event belongs to, as the local spawner tags its own events.
        async for event in super().progress():
            step = step_of_event(event.get('raw_event'))
            yield {**event, 'step': step} if step else event
