"""Backstage: every incident of a team the actor may see, filtered, searched, sorted, paged.

Filtering, sorting, counting and paging happen in SQL, so a team with thousands of
incidents costs one page of rows. A private incident is visible to a non-admin only while
they are a member of its channel: the caller passes the channels they are in (Mattermost
knows, in one call), and that becomes a `channel_id IN (...)` condition.

Counting every match is a scan of every match (100 000 of them take tens of milliseconds on
either database), so a count stops past `COUNT_MAX` (or past the page asked for) and the page
says "1000+", as mail clients and issue trackers do; a page that is not full needs no count.
`/incident list` is the same query for the ongoing incidents (`active`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Collection

import peewee

from models import Incident
from models.incidents import search_key

from .actor import Actor
from .errors import Invalid

PER_PAGE = 20
LIST_PER_PAGE = 20  # `/incident list`
COUNT_MAX = 1000  # matches counted exactly; past it a page says "1000+"
STATUSES = ("ongoing", "ended")
SORTS = ("start", "end", "name")
SEARCH_MAX = 100


@dataclass(frozen=True)
class Filters:
    status: str | None = None  # "ongoing", "ended" or None for both
    commander_id: str | None = None
    search: str = ""
    sort: str = "start"
    page: int = 1  # 1-based
    severity: int | None = None

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in STATUSES:
            raise Invalid(f"The status is one of {', '.join(STATUSES)}.")
        if self.sort not in SORTS:
            raise Invalid(f"Sort by one of {', '.join(SORTS)}.")
        if self.page < 1:
            raise Invalid("Pages are numbered from 1.")
        if self.severity is not None and self.severity not in (1, 2, 3, 4):
            raise Invalid("The severity is 1 (most severe), 2, 3 or 4.")
        if len(self.search) > SEARCH_MAX:
            raise Invalid(f"Search for at most {SEARCH_MAX} characters.")


@dataclass(frozen=True)
class Page:
    incidents: list[Incident]
    total: int  # incidents matching the filters, over all pages; a lower bound unless `exact`
    number: int  # this page, 1-based
    per_page: int
    exact: bool = True  # False: the count stopped at `total`, and there are more

    @property
    def pages(self) -> int:
        """The number of pages (at least that many, unless `exact`)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def past_end(self) -> bool:
        return not self.incidents and self.number > 1

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages or not self.exact

    @property
    def last_index(self) -> int:
        """1-based position of the last row of this page among all matches."""
        return self.first_index + len(self.incidents) - 1

    @property
    def first_index(self) -> int:
        """1-based position of the first row of this page among all matches."""
        return (self.number - 1) * self.per_page + 1


def is_participant(actor: Actor, incident: Incident) -> bool:
    """A member of the incident channel, or an admin: may see its channel and export it."""
    if actor.is_admin_of(incident.team_id):
        return True
    return actor.in_team(incident.team_id) and actor.is_channel_member(incident.channel_id)


def _like_pattern(text: str) -> str:
    escaped = text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


def _filtered(team_id: str, filters: Filters) -> peewee.ModelSelect[Incident]:
    query = Incident.select().where(Incident.team_id == team_id)
    if filters.status is not None:
        query = query.where(Incident.is_active == (filters.status == "ongoing"))
    if filters.commander_id:
        query = query.where(Incident.commander_id == filters.commander_id)
    if filters.severity is not None:
        query = query.where(Incident.severity == filters.severity)
    key = search_key(filters.search)
    if key:
        # search_key is folded on both sides, so a plain LIKE is case- and accent-blind
        # everywhere; '!' escapes the wildcards a person might type.
        like = peewee.NodeList((Incident.search_key, peewee.SQL("LIKE"), _like_pattern(key), peewee.SQL("ESCAPE '!'")))
        query = query.where(like)
    return query


def _ordered(query: peewee.ModelSelect[Incident], sort: str) -> peewee.ModelSelect[Incident]:
    if sort == "end":
        # most recently ended first; ongoing ones (no end yet) after all ended ones
        return query.order_by(Incident.ended_at.is_null(), Incident.ended_at.desc(), Incident.id.desc())
    if sort == "name":
        return query.order_by(Incident.search_key, Incident.created_at.desc(), Incident.id.desc())
    return query.order_by(Incident.created_at.desc(), Incident.id.desc())


def needs_channels(actor: Actor, team_id: str) -> bool:
    """Whether `browse` needs to know the actor's channels (admins see all, outsiders nothing)."""
    return actor.in_team(team_id) and not actor.is_admin_of(team_id)


def visible_to(actor: Actor, team_id: str, member_of: Collection[str] = frozenset()) -> peewee.Expression:
    """The SQL condition for the team's incidents the actor may see (also the metrics' rule):
    everything for admins, nothing for outsiders, else public ones and those of `member_of`."""
    if actor.is_admin_of(team_id):
        return Incident.team_id == team_id
    if not actor.in_team(team_id):
        return Incident.id.is_null()  # no incident has no id
    visible = Incident.is_private == False  # noqa: E712
    if member_of:
        visible = visible | Incident.channel_id.in_(list(member_of))
    return visible


def browse(actor: Actor, team_id: str, filters: Filters = Filters(), *, member_of: Collection[str] = frozenset(),
           per_page: int = PER_PAGE) -> Page:
    """One page of the team's incidents the actor may see, matching `filters`; `member_of`: the
    ids of the channels of the team the actor is in (archived ones too)."""
    query = _filtered(team_id, filters)
    if not actor.is_admin_of(team_id):
        if not actor.in_team(team_id):
            return Page([], 0, filters.page, per_page)
        query = query.where(visible_to(actor, team_id, member_of))
    before = (filters.page - 1) * per_page
    # one row more than the page: without it, the page is the last one and needs no count. The ids
    # first, then their rows: a query of indexed columns only lets SQLite walk the index alone
    ids = _ordered(query.select(Incident.id), filters.sort).offset(before).limit(per_page + 1)
    rows = list(_ordered(Incident.select().where(Incident.id.in_(ids)), filters.sort))
    total, exact = _count(query, before, per_page, rows)
    return Page(rows[:per_page], total, filters.page, per_page, exact)


def _count(query: peewee.ModelSelect[Incident], before: int, per_page: int, rows: list[Incident]) -> tuple[int, bool]:
    """(matches, exact): counted up to COUNT_MAX, or up to the end of this page if it is further;
    `before`: the matches on earlier pages, `rows`: this page's and one more if there is one."""
    if 0 < len(rows) <= per_page or (not rows and before == 0):
        return before + len(rows), True  # the last page: the rows themselves say how many
    limit = max(COUNT_MAX, before + per_page)
    if rows and limit == before + per_page:
        return limit, False  # past COUNT_MAX already, and the extra row says there are more
    counted = int(query.limit(limit + 1).count())  # peewee counts a limited query as a subquery
    return (counted, True) if counted <= limit else (limit, False)


def active(actor: Actor, team_id: str, page: int = 1, *, member_of: Collection[str] = frozenset()) -> Page:
    """A page of `/incident list`: the team's ongoing incidents the actor may see, newest first."""
    return browse(actor, team_id, Filters(status="ongoing", page=page), member_of=member_of, per_page=LIST_PER_PAGE)
