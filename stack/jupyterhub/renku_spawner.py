"""Single-user servers for the local stack.

Each named server is a local jupyter-server process (with JupyterLab) of the hub's own user, in a
working folder of its own. When the start options name a git repository and a commit, the folder
holds that commit checked out. A deployment runs each session in a container instead; this
spawner keeps the same contract (user options in, a server per project commit out) without a
container engine.

Beside the checkout, `<folder>/.session/` holds what outlives the hub's memory:
`server.log` (the spawner's steps and the server's output, read by the sessions subgraph's
`sessionLogs`) and `failure.json` (why the last start failed or the server ended, read when the
hub has restarted and forgotten). jupyter-server hides dot-folders from its file browser.
"""

import asyncio
import datetime
import json
import os
import re
import resource
import shutil
import subprocess

from jupyterhub.spawner import SimpleLocalProcessSpawner, SpawnException
from traitlets import Dict, Integer, Unicode, default

allow_root = '--ServerApp.allow_root=True'

# What the sessions subgraph sends: strings, except `environment` (names to string values).
string_options = {'project', 'commit', 'branch', 'image', 'resourceClass', 'repository'}
known_options = string_options | {'environment'}

environment_name = re.compile(r'^[A-Za-z_][A-Za-z0-9_]{0,127}$')
# Set by the hub or this spawner; a session may not replace them. The same list as the
# Kubernetes spawner's and the sessions subgraph's (tests/deploy/kubespawner.test.ts).
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
    # Set by KubeSpawner; refused here too, so that a session starts alike on both.
    'JUPYTER_IMAGE',
    'JUPYTER_IMAGE_SPEC',
}
reserved_environment_prefixes = ('JUPYTERHUB_', 'JPY_')

session_dir = '.session'
gib = 1024**3


class SpawnFailure(SpawnException):
    """A start that cannot succeed, for a reason the user can act on.

    The hub shows `jupyterhub_message` in the start progress as it is, without a traceback.
    """

    def __init__(self, message, *, reason):
        super().__init__(message, reason=reason)
        self.jupyterhub_message = message


class CheckoutError(Exception):
    """git could not clone or check out; the message is git's last line."""


def check_user_options(spawner, user_options):
    """Rejects start options this spawner would silently ignore or misread."""
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


def read_resource_classes(path):
    """The classes of the shared configuration file, by name, and the default's name.

    The sessions subgraph reads and validates the same file; this check keeps a hub with a
    broken file from starting rather than failing every session later.
    """
    with open(path) as f:
        config = json.load(f)
    classes = {}
    for entry in config.get('classes', []):
        name = entry.get('name')
        memory = entry.get('memoryGb')
        url = entry.get('defaultUrl')
        if not isinstance(name, str) or not name:
            raise ValueError(f'{path}: every resource class needs a name')
        if not isinstance(memory, (int, float)) or memory <= 0:
            raise ValueError(f'{path}: resource class {name} needs a positive memoryGb')
        if not isinstance(url, str) or not url.startswith('/'):
            raise ValueError(f'{path}: resource class {name} needs a defaultUrl starting with /')
        classes[name] = entry
    if config.get('default') not in classes:
        raise ValueError(f'{path}: default must name one of the resource classes')
    return classes, config['default']


class RenkuLocalSpawner(SimpleLocalProcessSpawner):
    work_root = Unicode(
        config=True, help='Folder holding one working folder per user and named server.'
    )
    run_dir = Unicode(
        config=True,
        help='Folder of pid files of running servers, for clean-up after a hub that was killed.',
    )
    images = Dict(
        config=True,
        help='Image names this spawner can run, each mapped to its jupyterhub-singleuser command.',
    )
    default_image = Unicode(config=True, help='The image used when the start options name none.')
    resource_classes_file = Unicode(
        config=True,
        help='JSON file of resource classes, shared with the sessions subgraph; read per start.',
    )
    checkout_timeout = Integer(
        120, config=True, help='Seconds a git clone and checkout may take.'
    )

    @default('apply_user_options')
    def _default_apply_user_options(self):
        return check_user_options

    @default('home_dir')
    def _default_home_dir(self):
        return os.path.join(self.work_root, folder_name(self.user.name), folder_name(self.name))

    @property
    def session_dir(self):
        return os.path.join(self.home_dir, session_dir)

    def _emit(self, step, progress, message):
        # `step` travels with the event: the hub passes unknown keys through to the stream.
        self._events.append({'progress': progress, 'message': message, 'step': step})
        self._log_line(message)

    def _log_line(self, message):
        stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')
        try:
            with open(os.path.join(self.session_dir, 'server.log'), 'a') as f:
                f.write(f'[session {stamp}] {message}\n')
        except OSError:
            self.log.warning('cannot write the log of session %s', self._log_name)

    def _record_failure(self, message, step):
        """Kept in the session folder, where it outlives the hub's memory of the start."""
        self._log_line(f'failed: {message}')
        failure = {
            'message': message,
            'step': step,
            'at': datetime.datetime.now(datetime.timezone.utc).isoformat(),
        }
        try:
            with open(os.path.join(self.session_dir, 'failure.json'), 'w') as f:
                json.dump(failure, f)
        except OSError:
            self.log.warning('cannot record the failure of session %s', self._log_name)

    async def progress(self):
        # The hub calls this once per progress request and stops it when the start ends, so
        # every request sees the whole story from the beginning.
        sent = 0
        while True:
            events = getattr(self, '_events', [])
            while sent < len(events):
                yield events[sent]
                sent += 1
            await asyncio.sleep(0.25)

    async def start(self):
        self._events = []
        self._stopping = False
        self._step = 'requested'
        os.makedirs(self.session_dir, exist_ok=True)
        # A new start begins a new story: the previous run's output and failure go.
        for stale in ('server.log', 'failure.json'):
            try:
                os.remove(os.path.join(self.session_dir, stale))
            except FileNotFoundError:
                pass
        try:
            return await self._start()
        except SpawnFailure as failure:
            # Told here; poll() must not tell it again as an ended server.
            self._stopping = True
            self._record_failure(failure.jupyterhub_message, self._step)
            raise
        except Exception as error:
            self._stopping = True
            self._record_failure(
                f'the server could not be started ({type(error).__name__})', self._step
            )
            raise

    async def _start(self):
        options = self.user_options or {}
        if not self.name or not options.get('project'):
            raise SpawnFailure(
                'sessions are named servers started for a project', reason='options'
            )

        image = options.get('image') or self.default_image
        if image not in self.images:
            known = ', '.join(sorted(self.images))
            raise SpawnFailure(
                f'image "{image}" is not available here (available: {known})', reason='image'
            )
        self._apply_resource_class(options.get('resourceClass'))
        self.cmd = [self.images[image]]
        if os.geteuid() == 0 and allow_root not in self.args:
            # jupyter-server refuses to run as root unless told to; in the local stack the
            # hub's user is whoever runs the stack, root included.
            self.args = [*self.args, allow_root]

        self._step = 'checkout'
        repository = options.get('repository')
        if repository:
            await self._check_out(repository, options.get('commit'), options.get('branch'))
        else:
            self._emit('checkout', 40, 'No repository to check out: the working folder is empty')

        self._step = 'server'
        self._emit('server', 70, f'Starting jupyter-server with JupyterLab ({image})')
        log = open(os.path.join(self.session_dir, 'server.log'), 'ab')
        try:
            self.popen_kwargs = {'stdout': log, 'stderr': subprocess.STDOUT}
            ip, port = await super().start()
        finally:
            log.close()
        self._write_pid()
        self._step = 'connect'
        self._emit('connect', 90, 'Waiting for the server to answer')
        await self._until_listening(ip, port)
        return ip, port

    async def _until_listening(self, ip, port):
        """Fails the start when the process ends before it listens.

        The hub would only notice at its HTTP timeout, long after the reason is known.
        """
        deadline = asyncio.get_running_loop().time() + self.http_timeout
        while asyncio.get_running_loop().time() < deadline:
            status = self.proc.poll() if self.proc else None
            if status is not None:
                raise SpawnFailure(exit_reason(status, self.mem_limit), reason='exit')
            try:
                _, writer = await asyncio.open_connection(ip, port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.25)

    def _apply_resource_class(self, name):
        try:
            classes, default_name = read_resource_classes(self.resource_classes_file)
        except (OSError, ValueError) as error:
            self.log.error('resource classes unusable: %s', error)
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
        self.mem_limit = int(chosen['memoryGb'] * gib)
        # Exported to the server as CPU_LIMIT only: a local process cannot be held to it.
        self.cpu_limit = float(chosen.get('cpu') or 0) or None
        self.default_url = chosen['defaultUrl']

    def get_env(self):
        env = super().get_env()
        # Python reserves address space per thread for malloc arenas; a few arenas keep the
        # address-space limit below about memory in use rather than threads started.
        env['MALLOC_ARENA_MAX'] = '2'
        env.update((self.user_options or {}).get('environment') or {})
        return env

    def make_preexec_fn(self, name):
        prepare = super().make_preexec_fn(name)
        limit = self.mem_limit

        def preexec():
            prepare()
            if limit:
                # The closest a local process gets to a container's memory limit: allocations
                # beyond it fail (MemoryError in Python) in the server and in its kernels.
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        return preexec

    async def poll(self):
        status = await super().poll()
        if status not in (None, 0) and not getattr(self, '_stopping', True):
            # Ended on its own: a crash, or memory exhausted. Nobody will call start() again
            # to tell, so the reason is recorded here, once.
            self._stopping = True
            self._record_failure(exit_reason(status, self.mem_limit), 'running')
        return status

    async def stop(self, now=False):
        self._stopping = True
        pid = self.pid
        await super().stop(now=now)
        if pid and self.run_dir:
            try:
                os.remove(os.path.join(self.run_dir, f'{pid}.pid'))
            except FileNotFoundError:
                pass

    async def delete_forever(self):
        # Removing a session removes its working folder, as a deployment removes its volume.
        shutil.rmtree(self.home_dir, ignore_errors=True)

    def _write_pid(self):
        if not self.run_dir:
            return
        os.makedirs(self.run_dir, exist_ok=True)
        with open(os.path.join(self.run_dir, f'{self.pid}.pid'), 'w') as f:
            f.write(str(self.pid))

    async def _check_out(self, repository, commit, branch):
        target = os.path.join(self.home_dir, repository_folder(repository))
        if os.path.isdir(os.path.join(target, '.git')):
            # A session started again keeps the work done in it.
            self._emit('checkout', 40, f'Resuming the checkout in {os.path.basename(target)}')
            return
        if not commit:
            raise SpawnFailure(f'a commit is needed to check out {repository}', reason='checkout')

        self._emit('checkout', 20, f'Cloning {repository}')
        try:
            # `--`: a repository is never read as an option of git clone.
            await self._git('clone', '--quiet', '--no-checkout', '--', repository, target)
            self._emit('checkout', 40, f'Checking out {commit[:12]}')
            if not await self._has_commit(target, commit):
                raise CheckoutError(await self._missing_commit(target, commit, branch))
            if branch:
                await self._git('-C', target, 'checkout', '--quiet', '-B', branch, commit)
            else:
                await self._git('-C', target, 'checkout', '--quiet', '--detach', commit)
        except CheckoutError as error:
            shutil.rmtree(target, ignore_errors=True)
            raise SpawnFailure(
                f'could not check out commit {commit} of {repository}: {error}', reason='checkout'
            ) from None

    async def _has_commit(self, target, commit):
        try:
            await self._git('-C', target, 'cat-file', '-e', f'{commit}^{{commit}}')
            return True
        except CheckoutError:
            return False

    async def _missing_commit(self, target, commit, branch):
        """Says where the branch is instead: a session never silently runs another commit."""
        ref = f'origin/{branch}' if branch else 'origin/HEAD'
        try:
            head = await self._git('-C', target, 'rev-parse', '--verify', '--quiet', ref)
        except CheckoutError:
            return 'the commit is not in the repository'
        where = f'branch {branch}' if branch else 'its default branch'
        return f'the commit is not in the repository ({where} is at {head[:12]})'

    async def _git(self, *args):
        process = await asyncio.create_subprocess_exec(
            'git',
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            # Never wait for a password nobody will type.
            env={**os.environ, 'GIT_TERMINAL_PROMPT': '0'},
        )
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), self.checkout_timeout)
        except asyncio.TimeoutError:
            process.kill()
            raise CheckoutError(f'git took longer than {self.checkout_timeout} s')
        if process.returncode != 0:
            lines = [line for line in stderr.decode(errors='replace').splitlines() if line.strip()]
            raise CheckoutError(lines[-1] if lines else f'git exited with {process.returncode}')
        return stdout.decode(errors='replace').strip()


def exit_reason(status, mem_limit):
    """Exit statuses as people read them; -9/137 is how an out-of-memory kill shows."""
    if status in (-9, 137):
        return f'the server was killed (exit code {status}), usually for running out of memory'
    message = f'the server ended with exit code {status}'
    if mem_limit:
        message += f'; if it ran out of memory, a resource class above {mem_limit / gib:g} GB helps'
    return message


def folder_name(name):
    """A single safe path segment for a user or server name."""
    safe = re.sub(r'[^A-Za-z0-9._@-]', '_', name or '_default')
    return '_' + safe if safe.startswith('.') else safe


def repository_folder(repository):
    base = repository.rstrip('/').rsplit('/', 1)[-1]
    base = base[:-4] if base.endswith('.git') else base
    return folder_name(base or 'project')
