# JupyterHub for the local stack. stack/src/services/jupyterhub.ts starts the hub with this file
# and passes ports, the data folder and the sessions service token as RENKU_HUB_* variables.
#
# The sessions subgraph creates users (named after their Keycloak username) and starts named
# servers for them through the REST API. People sign in here only to open their sessions: with
# Keycloak (oauthenticator's GenericOAuthenticator) when RENKU_HUB_OAUTH_ISSUER is set, else
# nobody signs in (the `null` authenticator) and session URLs answer only their public API.
import os
import secrets
import sys

c = get_config()  # noqa: F821 (provided by the config loader)

data_dir = os.environ['RENKU_HUB_DATA_DIR']
public_port = os.environ['RENKU_HUB_PUBLIC_PORT']
api_port = os.environ['RENKU_HUB_API_PORT']
proxy_api_port = os.environ['RENKU_HUB_PROXY_API_PORT']
# 0.0.0.0 in a container (docker-compose.yml), where the sessions subgraph is another host.
bind_host = os.environ.get('RENKU_HUB_BIND_HOST', '127.0.0.1')
public_url = os.environ.get('RENKU_HUB_PUBLIC_URL', f'http://127.0.0.1:{public_port}')


def kept_secret(name):
    """A secret created once per data folder, so that a restarted hub and proxy keep it."""
    path = os.path.join(data_dir, name)
    if not os.path.exists(path):
        with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), 'w') as f:
            f.write(secrets.token_hex(32))
    with open(path) as f:
        return f.read().strip()


# Loopback only; every piece of state lives in the data folder so that instances never collide.
c.JupyterHub.bind_url = f'http://{bind_host}:{public_port}'
c.JupyterHub.public_url = public_url
c.JupyterHub.hub_bind_url = f'http://{bind_host}:{api_port}'
# Single-user servers run beside the hub and reach it over loopback.
c.JupyterHub.hub_connect_url = f'http://127.0.0.1:{api_port}'
c.JupyterHub.db_url = 'sqlite:///' + os.path.join(data_dir, 'jupyterhub.sqlite')
c.JupyterHub.cookie_secret_file = os.path.join(data_dir, 'jupyterhub_cookie_secret')
c.JupyterHub.pid_file = os.path.join(data_dir, 'jupyterhub.pid')

c.ConfigurableHTTPProxy.command = [os.environ['RENKU_HUB_PROXY_COMMAND']]
c.ConfigurableHTTPProxy.api_url = f'http://127.0.0.1:{proxy_api_port}'
c.ConfigurableHTTPProxy.auth_token = kept_secret('proxy-auth-token')
c.ConfigurableHTTPProxy.pid_file = os.path.join(data_dir, 'proxy.pid')

oauth_issuer = os.environ.get('RENKU_HUB_OAUTH_ISSUER')
if oauth_issuer:
    c.JupyterHub.authenticator_class = 'generic-oauth'
    c.GenericOAuthenticator.client_id = os.environ.get(
        'RENKU_HUB_OAUTH_CLIENT_ID', 'renku-jupyterhub'
    )
    c.GenericOAuthenticator.client_secret = os.environ['RENKU_HUB_OAUTH_CLIENT_SECRET']
    c.GenericOAuthenticator.oauth_callback_url = f'{public_url}/hub/oauth_callback'
    endpoints = f'{oauth_issuer}/protocol/openid-connect'
    c.GenericOAuthenticator.authorize_url = f'{endpoints}/auth'
    c.GenericOAuthenticator.token_url = f'{endpoints}/token'
    c.GenericOAuthenticator.userdata_url = f'{endpoints}/userinfo'
    c.GenericOAuthenticator.logout_redirect_url = f'{endpoints}/logout'
    c.GenericOAuthenticator.scope = ['openid', 'profile']
    # The same name the sessions subgraph gives the hub user: the Keycloak username.
    c.GenericOAuthenticator.username_claim = 'preferred_username'
    # Straight to Keycloak: the hub has no sign-in form of its own.
    c.Authenticator.auto_login = True
else:
    c.JupyterHub.authenticator_class = 'null'
# Users exist because the sessions subgraph created them on their first start; anybody else
# signing in has no session to open and is refused.
c.Authenticator.allow_existing_users = True
# After signing in, the list of one's servers rather than a start of the default server, which
# sessions never use (the spawner refuses it).
c.JupyterHub.default_url = '/hub/home'

# One named server per project commit a user works on (see subgraphs/sessions); the default
# server is never used.
c.JupyterHub.allow_named_servers = True
c.JupyterHub.named_server_limit_per_user = 5
# Starts answer at once (202) and the sessions subgraph reports them as starting; it does not
# hold a GraphQL request open while a server comes up.
c.JupyterHub.tornado_settings = {'slow_spawn_timeout': 0}
# Stopping the hub stops every single-user server: the local stack leaves nothing running.
c.JupyterHub.cleanup_servers = True

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
c.JupyterHub.spawner_class = 'renku_spawner.RenkuLocalSpawner'
c.RenkuLocalSpawner.work_root = os.path.join(data_dir, 'sessions')
c.RenkuLocalSpawner.run_dir = os.path.join(data_dir, 'run')
c.RenkuLocalSpawner.images = {
    # The hub's own environment: jupyter-server with the hub's single-user extension.
    'renku/local': os.path.join(os.path.dirname(sys.executable), 'jupyterhub-singleuser'),
}
c.RenkuLocalSpawner.default_image = 'renku/local'
# The file the sessions subgraph reads too (SESSIONS_RESOURCE_CLASSES_FILE; by default
# subgraphs/sessions/resource-classes.json). Checked here: a broken file stops the hub at start
# rather than failing every session.
c.RenkuLocalSpawner.resource_classes_file = os.environ['RENKU_HUB_RESOURCE_CLASSES_FILE']
from renku_spawner import read_resource_classes  # noqa: E402 (needs sys.path above)

read_resource_classes(c.RenkuLocalSpawner.resource_classes_file)
c.Spawner.ip = '127.0.0.1'
# Two cores shared with Neo4j, Keycloak and the tests: a server can take a while to answer.
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 90
# A failing session (a commit that cannot be checked out) must never take the hub down with it.
c.Spawner.consecutive_failure_limit = 0
# How soon a server that ended on its own (e.g. out of memory) shows as FAILED.
c.Spawner.poll_interval = 10

c.JupyterHub.services = [
    {'name': 'renku-sessions', 'api_token': os.environ['RENKU_HUB_SESSIONS_TOKEN']},
]
c.JupyterHub.load_roles = [
    {
        'name': 'renku-sessions',
        'description': 'The sessions subgraph: creates users and runs their named servers',
        # admin:users is the only scope that creates a user; servers reads, starts, stops and
        # deletes servers and reads their start progress. Nothing grants access to the servers
        # themselves, to tokens or to the hub's own settings.
        'scopes': ['admin:users', 'servers'],
        'services': ['renku-sessions'],
    },
    {
        'name': 'user',
        'description': 'People who signed in: they open and watch their own sessions',
        # Without the usual `servers`: sessions are started and stopped through the supergraph,
        # which checks the project and the start options, not behind its back at the hub.
        'scopes': [
            'read:users:name!user',
            'read:users!user',
            'read:servers!user',
            'access:servers!user',
            'users:activity!user',
            'read:tokens!user',
        ],
    },
]
