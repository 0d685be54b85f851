"""Single-user servers for the local stack.

Each named server is a local jupyter-server process of the hub's own user, in a working folder
of its own. When the start options name a git repository and a commit, the folder holds that
commit checked out. A deployment runs each session in a container instead; this spawner keeps
the same contract (user options in, a server per project commit out) without a container engine.
"""

import asyncio
import os
import re
import shutil

from jupyterhub.spawner import SimpleLocalProcessSpawner, SpawnException
from traitlets import Dict, Integer, Unicode, default

allow_root = '--ServerApp.allow_root=True'

# What the sessions subgraph sends; each value is a string or absent.
known_options = {'project', 'commit', 'branch', 'image', 'resourceClass', 'repository'}


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
    for key, value in user_options.items():
        if value is not None and not isinstance(value, str):
            raise SpawnFailure(f'start option {key} must be a string', reason='options')


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
    checkout_timeout = Integer(
        120, config=True, help='Seconds a git clone and checkout may take.'
    )

    @default('apply_user_options')
    def _default_apply_user_options(self):
        return check_user_options

    @default('home_dir')
    def _default_home_dir(self):
        return os.path.join(self.work_root, folder_name(self.user.name), folder_name(self.name))

    def _emit(self, progress, message):
        self._events.append({'progress': progress, 'message': message})

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
        options = self.user_options or {}

        image = options.get('image') or self.default_image
        if image not in self.images:
            known = ', '.join(sorted(self.images))
            raise SpawnFailure(
                f'image "{image}" is not available here (available: {known})', reason='image'
            )
        self.cmd = [self.images[image]]
        if os.geteuid() == 0 and allow_root not in self.args:
            # jupyter-server refuses to run as root unless told to; in the local stack the
            # hub's user is whoever runs the stack, root included.
            self.args = [*self.args, allow_root]

        os.makedirs(self.home_dir, exist_ok=True)
        repository = options.get('repository')
        if repository:
            await self._check_out(repository, options.get('commit'), options.get('branch'))

        self._emit(70, f'Starting jupyter-server ({image})')
        ip, port = await super().start()
        self._write_pid()
        self._emit(90, 'Waiting for the server to answer')
        return ip, port

    async def stop(self, now=False):
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
            self._emit(40, f'Resuming the checkout in {os.path.basename(target)}')
            return
        if not commit:
            raise SpawnFailure(f'a commit is needed to check out {repository}', reason='checkout')

        self._emit(20, f'Cloning {repository}')
        try:
            await self._git('clone', '--quiet', '--no-checkout', repository, target)
            self._emit(40, f'Checking out {commit[:12]}')
            if branch:
                await self._git('-C', target, 'checkout', '--quiet', '-B', branch, commit)
            else:
                await self._git('-C', target, 'checkout', '--quiet', '--detach', commit)
        except CheckoutError as error:
            shutil.rmtree(target, ignore_errors=True)
            raise SpawnFailure(
                f'could not check out commit {commit} of {repository}: {error}', reason='checkout'
            ) from None

    async def _git(self, *args):
        process = await asyncio.create_subprocess_exec(
            'git',
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            # Never wait for a password nobody will type.
            env={**os.environ, 'GIT_TERMINAL_PROMPT': '0'},
        )
        try:
            _, stderr = await asyncio.wait_for(process.communicate(), self.checkout_timeout)
        except asyncio.TimeoutError:
            process.kill()
            raise CheckoutError(f'git took longer than {self.checkout_timeout} s')
        if process.returncode != 0:
            lines = [line for line in stderr.decode(errors='replace').splitlines() if line.strip()]
            raise CheckoutError(lines[-1] if lines else f'git exited with {process.returncode}')


def folder_name(name):
    """A single safe path segment for a user or server name."""
    safe = re.sub(r'[^A-Za-z0-9._@-]', '_', name or '_default')
    return '_' + safe if safe.startswith('.') else safe


def repository_folder(repository):
    base = repository.rstrip('/').rsplit('/', 1)[-1]
    base = base[:-4] if base.endswith('.git') else base
    return folder_name(base or 'project')
