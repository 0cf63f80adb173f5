"""Starter files for `digest init` and `digest new`, from the theme's templates/new/."""

from __future__ import annotations

# What `digest init` and `digest new` fill in when the editor gives nothing: `digest check` looks for them.
STARTER_NAME = "My Newsletter"
STARTER_SUBJECT = "Subject of the email"


def render_starter(template: str, **context) -> str:
    import json

    import jinja2

    from digest.render import bytecode_cache
    from digest.theme import DEFAULT_THEME

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(DEFAULT_THEME / "new")), keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined, autoescape=False, bytecode_cache=bytecode_cache())
    # A JSON string is a valid double-quoted string in both TOML and YAML, whatever the editor typed.
    env.filters["toml"] = env.filters["yaml"] = lambda value: json.dumps(str(value), ensure_ascii=False)
    return env.get_template(template).render(context)
