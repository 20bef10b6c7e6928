"""Template sources that try to reach Python internals through the sandbox, each with what
the sandbox says about it; and Jinja's globals that render only as a repr."""

from __future__ import annotations

# Each escape attempt and what the sandbox (ImmutableSandboxedEnvironment, StrictUndefined,
# no loader) says about it: the TemplateProblem's message contains the second string.
ESCAPES = [
    ("{{ ''.__class__.__mro__ }}", "not allowed: access to attribute '__class__'"),
    ("{{ ''.__class__ }}", "not allowed: access to attribute '__class__'"),
    ("{{ (1).__class__ }}", "not allowed: access to attribute '__class__'"),
    ("{{ cycler.__init__.__globals__ }}", "not allowed: access to attribute '__init__'"),
    ("{{ joiner.__init__.__globals__ }}", "not allowed: access to attribute '__init__'"),
    ("{{ namespace.__init__.__globals__ }}", "not allowed: access to attribute '__init__'"),
    ("{{ lipsum.__globals__ }}", "not allowed: access to attribute '__globals__'"),
    ("{{ self._TemplateReference__context }}", "not allowed: access to attribute '_Template"),
    ("{{ self.__init__.__globals__ }}", "not allowed: access to attribute '__init__'"),
    ("{{ self.__dict__ }}", "not allowed: access to attribute '__dict__'"),
    ("{{ event.start.__class__.__subclasses__() }}", "not allowed: access to attribute"),
    ("{{ event.start.tzinfo.__reduce_ex__(2) }}", "not allowed: access to attribute"),
    ("{{ dict.__base__.__subclasses__() }}", "not allowed: access to attribute '__base__'"),
    ("{{ ''|attr('__class__') }}", "not allowed: access to attribute '__class__'"),
    ("{{ event|attr('__class__') }}", "not allowed: access to attribute '__class__'"),
    ("{{ event['__class__'] }}", "not allowed: access to attribute '__class__'"),
    ("{{ '{0.__class__}'.format(reason) }}", "not allowed: access to attribute '__class__'"),
    ("{{ '%s'|format(''.__class__) }}", "not allowed: access to attribute '__class__'"),
    ("{% set x = me.__class__ %}{{ x }}", "not allowed: access to attribute '__class__'"),
    (
        "{% for c in ''.__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
        "not allowed: access to attribute '__class__'",
    ),
    ("{{ me.update({'name': 'x'}) }}", "not allowed: access to attribute 'update'"),
    ("{{ booking_links.append(1) }}", "not allowed: access to attribute 'append'"),
    ("{{ range.__self__ }}", "undefined: "),
    ("{{ event.start.astimezone.__func__ }}", "undefined: "),
    ("{{ config.items() }}", "undefined: 'config' is undefined"),
    ("{{ request.application.__globals__ }}", "undefined: 'request' is undefined"),
    ("{% import 'os' as os %}", "no loader"),
    ("{% include '/etc/passwd' %}", "no loader"),
    ("{% extends '/etc/passwd' %}", "no loader"),
    ("{{ range(10**7)|list|length }}", "Range too big"),
]


# Globals that render, but only as a repr: nothing reached through them.
HARMLESS = ["{{ self }}", "{{ cycler }}", "{{ lipsum }}", "{{ range }}"]
