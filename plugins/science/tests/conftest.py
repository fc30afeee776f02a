from vetta.testing import *  # noqa: F401,F403  (fixtures: vetta_home, fake_assistant, register_plugin...)
