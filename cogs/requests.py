"""/search, /request, /requests, /quota, approval cards and /admin requests: Overseerr from Discord."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds, replies
from bot.correlation import current
from bot.errors import AppError, ErrorCode
from bot.events import BotEvent
from bot.integrations.overseerr import Details, MediaType, SearchResult
from bot.repositories.requests import TOPICS, MediaRequest, Status
from bot.services.requests import PAGE_SIZE, SeasonChoice, poster_url, state_label
from bot.tree import report
from bot.views import BaseModal, BaseView

if TYPE_CHECKING:
    from bot.client import MediaNestBot

log = logging.getLogger(__name__)

RESULTS_PER_PAGE = 5
OVERVIEW_LIMIT = 300
_STATUS_ICONS = {
    "pending": "🕒",
    "approved": "👍",
    "processing": "⚙️",
    "partially_available": "🟡",
    "available": "✅",
    "declined": "⛔",
    "failed": "⚠️",
    "cancelled": "✖️",
}


# -- rendering ------------------------------------------------------------------------------


def result_embed(item: SearchResult | Details, media_type: str) -> discord.Embed:
    year = f" ({item.year})" if item.year else ""
    embed = embeds.info(f"{embeds.safe(item.display_title, 200)}{year}")
    embed.description = embeds.truncate(embeds.safe(item.overview or "No overview."), OVERVIEW_LIMIT)
    embed.add_field(name="Type", value="Movie" if media_type == "movie" else "TV show")
    if item.vote_average:
        embed.add_field(name="Rating", value=f"{item.vote_average:.1f}/10")
    embed.add_field(name="On our server", value=state_label(item))
    if poster := poster_url(item.poster_path):
        embed.set_thumbnail(url=poster)
    return embed


def request_embed(request: MediaRequest) -> discord.Embed:
    waiting = request.status == "pending"
    embed = embeds.build(
        embeds.Tone.INFO if waiting else embeds.Tone.SUCCESS,
        f"Requested: {embeds.safe(request.label, 200)}",
        "Waiting for an admin to approve it." if waiting else "Approved; it is on its way.",
    )
    embed.set_footer(text=f"Request #{request.id} · you get a DM when it is ready")
    if poster := poster_url(request.poster_path):
        embed.set_thumbnail(url=poster)
    return embed


def card_embed(request: MediaRequest, seasons_note: str | None = None) -> discord.Embed:
    who = f"<@{request.user_id}>" if request.user_id else embeds.safe(request.requested_by_name or "someone", 100)
    via = " in Overseerr" if request.requested_via == "overseerr" else ""
    embed = embeds.build(
        embeds.Tone.WARNING, f"Approval needed: {embeds.safe(request.label, 200)}", f"Requested by {who}{via}."
    )
    if seasons_note:
        embed.add_field(name="Seasons", value=seasons_note)
    embed.set_footer(text=f"Request #{request.id}")
    if poster := poster_url(request.poster_path):
        embed.set_thumbnail(url=poster)
    return embed


def decided_embed(request: MediaRequest) -> discord.Embed:
    who = f" by <@{request.decided_by}>" if request.decided_by else " in Overseerr"
    if request.status == "declined":
        reason = embeds.safe(request.decline_reason or "no reason given", 300)
        embed = embeds.build(
            embeds.Tone.ERROR, f"Declined: {embeds.safe(request.label, 200)}", f"Declined{who}: {reason}"
        )
    else:
        embed = embeds.success(f"Approved: {embeds.safe(request.label, 200)}", f"Approved{who}.")
    embed.set_footer(text=f"Request #{request.id}")
    return embed


def choice_value(media_type: str, tmdb_id: int) -> str:
    return f"{media_type}:{tmdb_id}"


def parse_choice(value: str, media_type: MediaType | None = None) -> tuple[MediaType, int] | None:
    match = re.fullmatch(r"(movie|tv):(\d{1,9})", value.strip())
    if match:
        return ("movie" if match[1] == "movie" else "tv"), int(match[2])
    if media_type is not None and value.strip().isdigit() and len(value.strip()) < 10:
        return media_type, int(value.strip())
    return None


# -- views ---------------------------------------------------------------------------------


class NotifyMeView(BaseView):
    def __init__(self, bot: MediaNestBot, owner_id: int, request_id: int) -> None:
        super().__init__(bot, owner_id=owner_id, timeout=600)
        self.request_id = request_id

    @discord.ui.button(label="Notify me too", style=discord.ButtonStyle.primary, emoji="🔔")
    async def notify(self, interaction: discord.Interaction[MediaNestBot], _: discord.ui.Button[Any]) -> None:
        request = await self.bot.services.requests.notify_me_too(interaction.user.id, self.request_id)
        await interaction.response.edit_message(
            embed=embeds.success(
                "You will be notified", f"You get a DM when **{embeds.safe(request.label, 200)}** changes."
            ),
            view=None,
        )


class SeasonView(BaseView):
    """A select of the seasons that can still be requested."""

    def __init__(self, cog: Requests, owner_id: int, tmdb_id: int, is_4k: bool, choices: list[SeasonChoice]) -> None:
        super().__init__(cog.bot, owner_id=owner_id)
        self.cog = cog
        self.tmdb_id = tmdb_id
        self.is_4k = is_4k
        open_choices = [c for c in choices if c.state is None][:24]
        options = [discord.SelectOption(label="All remaining seasons", value="all")] + [
            discord.SelectOption(
                label=embeds.truncate(c.name, 100), value=str(c.number), description=f"{c.episodes} episodes"
            )
            for c in open_choices
        ]
        select: discord.ui.Select[SeasonView] = discord.ui.Select(
            placeholder="Which seasons?", min_values=1, max_values=len(options), options=options, custom_id="seasons"
        )
        select.callback = self._picked  # type: ignore[method-assign]  # discord.py's way to set a callback
        self.add_item(select)
        self.select = select

    async def _picked(self, interaction: discord.Interaction[Any]) -> None:
        values = self.select.values
        seasons = None if "all" in values else sorted(int(v) for v in values)
        await interaction.response.defer()
        await self.cog.make_request(interaction, "tv", self.tmdb_id, self.is_4k, seasons)


class ResultsView(BaseView):
    """Search results: a page of embeds, a select to pick one, and paging."""

    def __init__(self, cog: Requests, owner_id: int, results: list[SearchResult], page: int = 0) -> None:
        super().__init__(cog.bot, owner_id=owner_id)
        self.cog = cog
        self.results = results
        self.page = page
        self._build()

    def page_items(self) -> list[SearchResult]:
        start = self.page * RESULTS_PER_PAGE
        return self.results[start : start + RESULTS_PER_PAGE]

    def embeds(self) -> list[discord.Embed]:
        return [result_embed(r, r.media_type) for r in self.page_items()]

    def _build(self) -> None:
        self.clear_items()
        options = [
            discord.SelectOption(
                label=embeds.truncate(f"{r.display_title}" + (f" ({r.year})" if r.year else ""), 100),
                value=choice_value(r.media_type, r.id),
                description="Movie" if r.media_type == "movie" else "TV show",
            )
            for r in self.results[:25]
        ]
        select: discord.ui.Select[ResultsView] = discord.ui.Select(
            placeholder="Pick one to request", options=options, custom_id="pick"
        )
        select.callback = self._picked  # type: ignore[method-assign]  # discord.py's way to set a callback
        self.add_item(select)
        self.select = select
        pages = max(1, -(-len(self.results) // RESULTS_PER_PAGE))
        if pages > 1:
            back: discord.ui.Button[ResultsView] = discord.ui.Button(
                label="Previous", disabled=self.page == 0, custom_id="prev"
            )
            forward: discord.ui.Button[ResultsView] = discord.ui.Button(
                label="Next", disabled=self.page >= pages - 1, custom_id="next"
            )
            back.callback = self._back  # type: ignore[method-assign]  # discord.py's way to set a callback
            forward.callback = self._forward  # type: ignore[method-assign]  # discord.py's way to set a callback
            self.add_item(back)
            self.add_item(forward)

    async def _back(self, interaction: discord.Interaction[Any]) -> None:
        self.page -= 1
        self._build()
        await interaction.response.edit_message(embeds=self.embeds(), view=self)

    async def _forward(self, interaction: discord.Interaction[Any]) -> None:
        self.page += 1
        self._build()
        await interaction.response.edit_message(embeds=self.embeds(), view=self)

    async def _picked(self, interaction: discord.Interaction[Any]) -> None:
        picked = parse_choice(self.select.values[0])
        assert picked is not None
        await interaction.response.defer()
        await self.cog.show_details(interaction, *picked)


class DetailsView(BaseView):
    def __init__(self, cog: Requests, owner_id: int, media_type: MediaType, details: Details) -> None:
        super().__init__(cog.bot, owner_id=owner_id)
        self.cog = cog
        self.media_type = media_type
        self.details = details
        state = state_label(details)
        if state in ("available",):
            self.request.disabled = True
        if state_label(details, is_4k=True) == "available":
            self.request_4k.disabled = True

    @discord.ui.button(label="Request", style=discord.ButtonStyle.success, custom_id="request")
    async def request(self, interaction: discord.Interaction[MediaNestBot], _: discord.ui.Button[Any]) -> None:
        await self._go(interaction, False)

    @discord.ui.button(label="Request 4K", style=discord.ButtonStyle.secondary, custom_id="request4k")
    async def request_4k(self, interaction: discord.Interaction[MediaNestBot], _: discord.ui.Button[Any]) -> None:
        await self._go(interaction, True)

    async def _go(self, interaction: discord.Interaction[MediaNestBot], is_4k: bool) -> None:
        await interaction.response.defer()
        await self.cog.start_request(interaction, self.media_type, self.details.id, is_4k)


class DecisionButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"req:(?P<action>approve|decline):(?P<id>\d+)"
):
    """Approve / Decline on an approval card; works after a restart (the id is in the custom id)."""

    def __init__(self, action: str, request_id: int) -> None:
        approve = action == "approve"
        super().__init__(
            discord.ui.Button(
                label="Approve" if approve else "Decline",
                style=discord.ButtonStyle.success if approve else discord.ButtonStyle.danger,
                custom_id=f"req:{action}:{request_id}",
            )
        )
        self.action = action
        self.request_id = request_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> DecisionButton:
        return cls(match["action"], int(match["id"]))

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        try:
            await interaction.client.gate.check(interaction)
        except AppError as exc:
            await report(interaction, exc, where="approval card")
            return False
        return True

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot: MediaNestBot = interaction.client
        try:
            if self.action == "decline":
                await bot.services.accounts.require_admin(interaction.user.id)
                await interaction.response.send_modal(DeclineModal(self.request_id))
                return
            await interaction.response.defer()
            request = await bot.services.requests.decide(interaction.user.id, self.request_id, approve=True)
            await interaction.edit_original_response(embed=decided_embed(request), view=None)
        except Exception as exc:
            await report(interaction, exc, where="approval card")


class DeclineModal(BaseModal, title="Decline request"):
    reason: discord.ui.TextInput[DeclineModal] = discord.ui.TextInput(
        label="Why? (the requester sees this)", style=discord.TextStyle.paragraph, min_length=3, max_length=500
    )

    def __init__(self, request_id: int) -> None:
        super().__init__(custom_id=f"decline-reason:{request_id}")
        self.request_id = request_id

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        bot: MediaNestBot = interaction.client
        await interaction.response.defer()
        request = await bot.services.requests.decide(
            interaction.user.id, self.request_id, approve=False, reason=self.reason.value
        )
        await interaction.edit_original_response(embed=decided_embed(request), view=None)


class BulkConfirmView(BaseView):
    def __init__(self, bot: MediaNestBot, owner_id: int, ids: list[int], approve: bool, reason: str | None) -> None:
        super().__init__(bot, owner_id=owner_id, timeout=120)
        self.ids = ids
        self.approve = approve
        self.reason = reason
        self.confirm.label = f"{'Approve' if approve else 'Decline'} {len(ids)}"

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction[MediaNestBot], _: discord.ui.Button[Any]) -> None:
        await interaction.response.defer()
        done, failed = await self.bot.services.requests.bulk_decide(
            interaction.user.id, self.ids, approve=self.approve, reason=self.reason
        )
        verb = "Approved" if self.approve else "Declined"
        text = f"{verb} {len(done)} request(s)."
        if failed:
            text += "\n" + "\n".join(f"#{i}: {embeds.safe(why, 150)}" for i, why in failed[:10])
        await interaction.edit_original_response(embed=embeds.success(f"{verb} {len(done)}", text), view=None)
        self.stop()

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction[MediaNestBot], _: discord.ui.Button[Any]) -> None:
        await interaction.response.edit_message(embed=embeds.info("Nothing changed"), view=None)
        self.stop()


# -- the cog -----------------------------------------------------------------------------------


class Requests(commands.Cog):
    def __init__(self, bot: MediaNestBot) -> None:
        self.bot = bot
        self.service = bot.services.requests
        self.admin = RequestAdmin(bot)
        self.notify_admin = NotifyAdmin(bot)

    async def cog_load(self) -> None:
        self.bot.event_handlers["request_update"] = self.on_request_update
        self.bot.add_dynamic_items(DecisionButton)
        self.bot.admin_group.add_command(self.admin)
        self.bot.admin_group.add_command(self.notify_admin)

    async def cog_unload(self) -> None:
        self.bot.event_handlers.pop("request_update", None)
        self.bot.remove_dynamic_items(DecisionButton)
        self.bot.admin_group.remove_command(self.admin.name)
        self.bot.admin_group.remove_command(self.notify_admin.name)

    # -- commands -------------------------------------------------------------------------------

    async def _autocomplete(self, query: str, media_type: MediaType | None) -> list[app_commands.Choice[str]]:
        if len(query.strip()) < 2 or not self.service.enabled:
            return []
        try:
            results = await self.service.search(query, media_type)
        except AppError:
            return []
        return [
            app_commands.Choice(
                name=embeds.truncate(
                    f"{r.display_title}"
                    + (f" ({r.year})" if r.year else "")
                    + f" · {'movie' if r.media_type == 'movie' else 'TV'}",
                    100,
                ),
                value=choice_value(r.media_type, r.id),
            )
            for r in results[:25]
        ]

    @app_commands.command(name="search", description="Find a movie or show, see if we have it, and request it")
    @app_commands.describe(query="Title to look for", type="Only movies or only shows")
    async def search(
        self,
        interaction: discord.Interaction[MediaNestBot],
        query: app_commands.Range[str, 2, 100],
        type: Literal["movie", "tv"] | None = None,
    ) -> None:
        await replies.defer(interaction)
        picked = parse_choice(query)
        if picked is not None:
            await self.show_details(interaction, *picked)
            return
        results = await self.service.search(query, type)
        if not results:
            await replies.send(
                interaction, embed=embeds.info("Nothing found", f"No match for “{embeds.safe(query, 100)}”.")
            )
            return
        view = ResultsView(self, interaction.user.id, results)
        await interaction.edit_original_response(embeds=view.embeds(), view=view)

    @search.autocomplete("query")
    async def _search_complete(
        self, interaction: discord.Interaction[MediaNestBot], current_text: str
    ) -> list[app_commands.Choice[str]]:
        media_type = getattr(interaction.namespace, "type", None)
        return await self._autocomplete(current_text, media_type if media_type in ("movie", "tv") else None)

    request_group = app_commands.Group(name="request", description="Ask for a movie or a show")

    @request_group.command(name="movie", description="Request a movie")
    @app_commands.describe(title="Start typing and pick from the list", four_k="Ask for the 4K version")
    @app_commands.rename(four_k="4k")
    async def request_movie(
        self,
        interaction: discord.Interaction[MediaNestBot],
        title: app_commands.Range[str, 1, 100],
        four_k: bool = False,
    ) -> None:
        await self._request_command(interaction, "movie", title, four_k)

    @request_group.command(name="tv", description="Request a show (all seasons or the ones you pick)")
    @app_commands.describe(title="Start typing and pick from the list", four_k="Ask for the 4K version")
    @app_commands.rename(four_k="4k")
    async def request_tv(
        self,
        interaction: discord.Interaction[MediaNestBot],
        title: app_commands.Range[str, 1, 100],
        four_k: bool = False,
    ) -> None:
        await self._request_command(interaction, "tv", title, four_k)

    @request_movie.autocomplete("title")
    async def _movie_complete(
        self, interaction: discord.Interaction[MediaNestBot], current_text: str
    ) -> list[app_commands.Choice[str]]:
        return await self._autocomplete(current_text, "movie")

    @request_tv.autocomplete("title")
    async def _tv_complete(
        self, interaction: discord.Interaction[MediaNestBot], current_text: str
    ) -> list[app_commands.Choice[str]]:
        return await self._autocomplete(current_text, "tv")

    async def _request_command(
        self, interaction: discord.Interaction[MediaNestBot], media_type: MediaType, title: str, is_4k: bool
    ) -> None:
        await replies.defer(interaction)
        picked = parse_choice(title, media_type)
        if picked is None:
            results = await self.service.search(title, media_type)
            if not results:
                raise AppError(
                    ErrorCode.RESOURCE_NOT_FOUND, f"No {media_type} matches “{title[:100]}”. Check the spelling."
                )
            view = ResultsView(self, interaction.user.id, results)
            await interaction.edit_original_response(content="Which one did you mean?", embeds=view.embeds(), view=view)
            return
        await self.start_request(interaction, picked[0], picked[1], is_4k)

    async def show_details(
        self, interaction: discord.Interaction[MediaNestBot], media_type: MediaType, tmdb_id: int
    ) -> None:
        details = await self.service.details(media_type, tmdb_id, fresh=True)
        view = DetailsView(self, interaction.user.id, media_type, details)
        await interaction.edit_original_response(content=None, embeds=[result_embed(details, media_type)], view=view)

    async def start_request(
        self,
        interaction: discord.Interaction[MediaNestBot],
        media_type: MediaType,
        tmdb_id: int,
        is_4k: bool,
    ) -> None:
        """Movies go straight to Overseerr; shows first ask which seasons (unless only one is left)."""
        if media_type == "tv":
            choices = await self.service.seasons(tmdb_id, is_4k)
            open_choices = [c for c in choices if c.state is None]
            if len(open_choices) > 1:
                details = await self.service.details("tv", tmdb_id)
                lines = [f"**{embeds.safe(c.name, 80)}**: {c.state}" for c in choices if c.state is not None]
                embed = embeds.info(
                    f"{embeds.safe(details.display_title, 200)}: which seasons?",
                    ("Already here or asked for:\n" + "\n".join(lines)) if lines else "Pick the seasons you want.",
                )
                await interaction.edit_original_response(
                    content=None, embeds=[embed], view=SeasonView(self, interaction.user.id, tmdb_id, is_4k, choices)
                )
                return
        await self.make_request(interaction, media_type, tmdb_id, is_4k, None)

    async def make_request(
        self,
        interaction: discord.Interaction[MediaNestBot],
        media_type: MediaType,
        tmdb_id: int,
        is_4k: bool,
        seasons: list[int] | None,
    ) -> None:
        try:
            outcome = await self.service.request(interaction.user.id, media_type, tmdb_id, is_4k=is_4k, seasons=seasons)
        except AppError as exc:
            if exc.code is ErrorCode.DUPLICATE_REQUEST and "request_id" in exc.details:
                await interaction.edit_original_response(
                    content=None,
                    embeds=[embeds.error(exc, current())],
                    view=NotifyMeView(self.bot, interaction.user.id, int(exc.details["request_id"])),
                )
                return
            raise
        await interaction.edit_original_response(content=None, embeds=[request_embed(outcome.request)], view=None)

    @app_commands.command(name="requests", description="Your requests and where they are")
    @app_commands.describe(status="Only this state", page="Page number", user="Someone else's (admins only)")
    async def requests(
        self,
        interaction: discord.Interaction[MediaNestBot],
        status: Literal["pending", "approved", "processing", "available", "declined", "failed"] | None = None,
        page: app_commands.Range[int, 1, 500] = 1,
        user: discord.User | None = None,
    ) -> None:
        await replies.defer(interaction)
        rows, total = await self.service.list_for(
            interaction.user.id, user_id=user.id if user else None, status=status, page=page
        )
        owner = f"{user.name}'s" if user else "Your"
        if not rows:
            await replies.send(interaction, embed=embeds.info(f"{owner} requests", "Nothing here. Try /search."))
            return
        lines = []
        for row in rows:
            timeline = [f"asked <t:{int(row.created_at.timestamp())}:R>"]
            for event in await self.service.timeline(row.id):
                if event["status"] in ("approved", "declined", "available", "failed"):
                    timeline.append(f"{event['status']} <t:{int(event['created_at'].timestamp())}:R>")
            lines.append(
                f"{_STATUS_ICONS.get(row.status, '•')} **#{row.id} {embeds.safe(row.label, 120)}** · "
                f"{row.status.replace('_', ' ')}\n  " + " → ".join(timeline)
            )
        pages = max(1, -(-total // PAGE_SIZE))
        embed = embeds.info(f"{owner} requests", "\n".join(lines))
        embed.set_footer(text=f"Page {page} of {pages} · {total} in all")
        await replies.send(interaction, embed=embed)

    @app_commands.command(name="quota", description="How many requests you have left")
    async def quota(self, interaction: discord.Interaction[MediaNestBot]) -> None:
        await replies.defer(interaction)
        report_ = await self.service.quota(interaction.user.id)
        embed = embeds.info("Your request quota")
        value = f"{report_.limit - report_.used} of {report_.limit} left (rolling 24 hours)"
        if report_.resets_at:
            value += f"\nNext one free <t:{int(report_.resets_at.timestamp())}:R>"
        embed.add_field(name="MediaNest", value=value, inline=False)
        if report_.overseerr is not None:
            for label, part in (("Movies", report_.overseerr.movie), ("Shows (seasons)", report_.overseerr.tv)):
                if part.limit:
                    embed.add_field(
                        name=f"Overseerr · {label}",
                        value=f"{part.remaining if part.remaining is not None else '?'} of {part.limit} left "
                        f"(every {part.days or '?'} days)",
                    )
                else:
                    embed.add_field(name=f"Overseerr · {label}", value="no limit")
        await replies.send(interaction, embed=embed)

    # -- events ------------------------------------------------------------------------------------

    async def on_request_update(self, event: BotEvent) -> None:
        """A request changed (once per status): cards, channel posts and DMs."""
        assert event.request_id is not None and event.status is not None
        request = await self.service.get(event.request_id)
        if request is None:
            return
        routes = await self.service.routes()
        status: Status = event.status  # type: ignore[assignment]
        if status in ("pending", "approved") and len(await self.service.timeline(request.id)) == 1:
            await self._post(routes.get("new_request"), embed=request_embed(request))  # its first event: it is new
        if status == "pending":
            channel_id = routes.get("approval_needed")
            if channel_id is not None:
                message = await self._post(channel_id, embed=card_embed(request), view=self._card_view(request.id))
                if message is not None:
                    await self.service.set_approval_card(request.id, message.channel.id, message.id)
            return
        if request.approval_channel_id and request.approval_message_id and status in ("approved", "declined"):
            try:
                await (
                    self.bot.get_partial_messageable(request.approval_channel_id)
                    .get_partial_message(request.approval_message_id)
                    .edit(embed=decided_embed(request), view=None)
                )
            except discord.HTTPException:
                log.info("could not update the approval card of request %s", request.id)
        topic = {"approved": "decisions", "declined": "decisions", "available": "available", "failed": "failures"}.get(
            status
        )
        if topic is not None and (status != "approved" or event.notify_requester):
            await self._post(routes.get(topic), embed=self._topic_embed(request, status))
        recipients = [request.user_id] if request.user_id and event.notify_requester else []
        recipients += [u for u in await self.service.subscribers(request.id) if u not in recipients]
        for notice in self.service.notices(request, status, recipients):
            try:
                await self.bot.notifier.notify(notice)
            except discord.HTTPException:
                log.warning("could not tell %s about request %s", notice.user_id, request.id, exc_info=True)

    def _card_view(self, request_id: int) -> discord.ui.View:
        view = discord.ui.View(timeout=None)
        view.add_item(DecisionButton("approve", request_id))
        view.add_item(DecisionButton("decline", request_id))
        return view

    def _topic_embed(self, request: MediaRequest, status: Status) -> discord.Embed:
        who = f"<@{request.user_id}>" if request.user_id else embeds.safe(request.requested_by_name or "someone", 100)
        verbs = {"approved": "Approved", "declined": "Declined", "available": "Now on Plex", "failed": "Failed"}
        tone = embeds.Tone.ERROR if status in ("declined", "failed") else embeds.Tone.SUCCESS
        embed = embeds.build(tone, f"{verbs[status]}: {embeds.safe(request.label, 200)}", f"Requested by {who}.")
        if poster := poster_url(request.poster_path):
            embed.set_thumbnail(url=poster)
        return embed

    async def _post(
        self, channel_id: int | None, *, embed: discord.Embed, view: discord.ui.View | None = None
    ) -> discord.Message | None:
        if channel_id is None:
            return None
        try:
            channel = self.bot.get_partial_messageable(channel_id)
            kwargs: dict[str, Any] = {"embed": embed, "allowed_mentions": discord.AllowedMentions.none()}
            if view is not None:
                kwargs["view"] = view
            return await channel.send(**kwargs)
        except discord.HTTPException:
            log.warning("could not post to channel %s", channel_id, exc_info=True)
            return None


class RequestAdmin(app_commands.Group):
    def __init__(self, bot: MediaNestBot) -> None:
        super().__init__(name="requests", description="Approve, decline and review requests")
        self.bot = bot

    @app_commands.command(name="pending", description="Requests waiting for a decision")
    async def pending(self, interaction: discord.Interaction[MediaNestBot], user: discord.User | None = None) -> None:
        rows = await self.bot.services.requests.pending(interaction.user.id, user_id=user.id if user else None)
        if not rows:
            await replies.send(interaction, embed=embeds.info("Nothing pending", "Every request has been decided."))
            return
        lines = [
            f"**#{r.id}** {embeds.safe(r.label, 120)} · "
            + (f"<@{r.user_id}>" if r.user_id else embeds.safe(r.requested_by_name or "?", 50))
            + f" · <t:{int(r.created_at.timestamp())}:R>"
            for r in rows[:25]
        ]
        more = f"\n…and {len(rows) - 25} more" if len(rows) > 25 else ""
        await replies.send(interaction, embed=embeds.info(f"{len(rows)} pending", "\n".join(lines) + more))

    @app_commands.command(name="approve", description="Approve one request")
    async def approve(
        self, interaction: discord.Interaction[MediaNestBot], request_id: app_commands.Range[int, 1]
    ) -> None:
        await replies.defer(interaction)
        request = await self.bot.services.requests.decide(interaction.user.id, request_id, approve=True)
        await replies.send(interaction, embed=decided_embed(request))

    @app_commands.command(name="decline", description="Decline one request, with a reason the requester sees")
    async def decline(
        self,
        interaction: discord.Interaction[MediaNestBot],
        request_id: app_commands.Range[int, 1],
        reason: app_commands.Range[str, 3, 500],
    ) -> None:
        await replies.defer(interaction)
        request = await self.bot.services.requests.decide(interaction.user.id, request_id, approve=False, reason=reason)
        await replies.send(interaction, embed=decided_embed(request))

    @app_commands.command(
        name="bulk", description="Approve or decline every pending request of a member, or older than N days"
    )
    @app_commands.describe(user="Only this member's", older_than_days="Only requests at least this old")
    async def bulk(
        self,
        interaction: discord.Interaction[MediaNestBot],
        action: Literal["approve", "decline"],
        user: discord.User | None = None,
        older_than_days: app_commands.Range[int, 0, 3650] | None = None,
        reason: app_commands.Range[str, 3, 500] | None = None,
    ) -> None:
        before = datetime.now(UTC) - timedelta(days=older_than_days) if older_than_days is not None else None
        rows = await self.bot.services.requests.pending(
            interaction.user.id, user_id=user.id if user else None, before=before
        )
        if not rows:
            await replies.send(interaction, embed=embeds.info("Nothing to do", "No pending request matches."))
            return
        approve = action == "approve"
        view = BulkConfirmView(self.bot, interaction.user.id, [r.id for r in rows], approve, reason)
        sample = "\n".join(f"#{r.id} {embeds.safe(r.label, 100)}" for r in rows[:10])
        await replies.send(
            interaction,
            embed=embeds.warning(
                f"{action.title()} {len(rows)} request(s)?", sample + ("\n…" if len(rows) > 10 else "")
            ),
            view=view,
        )


class NotifyAdmin(app_commands.Group):
    def __init__(self, bot: MediaNestBot) -> None:
        super().__init__(name="notify", description="Where request notifications go")
        self.bot = bot

    @app_commands.command(name="route", description="Send one kind of notification to a channel (or stop it)")
    @app_commands.describe(topic="Which notifications", channel="Where they go; leave empty to stop them")
    async def route(
        self,
        interaction: discord.Interaction[MediaNestBot],
        topic: Literal["new_request", "approval_needed", "decisions", "available", "failures"],
        channel: discord.TextChannel | None = None,
    ) -> None:
        await self.bot.services.requests.set_route(interaction.user.id, topic, channel.id if channel else None)
        where = channel.mention if channel else "nowhere"
        await replies.send(interaction, embed=embeds.success("Saved", f"`{topic}` notifications now go to {where}."))

    @app_commands.command(name="routes", description="Where each kind of notification goes")
    async def routes(self, interaction: discord.Interaction[MediaNestBot]) -> None:
        await self.bot.services.accounts.require_admin(interaction.user.id)
        routes = await self.bot.services.requests.routes()
        lines = [f"`{t}` → {f'<#{routes[t]}>' if t in routes else 'not sent'}" for t in TOPICS]
        await replies.send(interaction, embed=embeds.info("Notification routes", "\n".join(lines)))


async def setup(bot: MediaNestBot) -> None:
    if not bot.services.requests.enabled:
        log.info("OVERSEERR_URL is not set: the request commands are off")
        return
    await bot.add_cog(Requests(bot))
