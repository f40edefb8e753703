"""A bare discord.py bot used to prove the fake Discord and as a benchmark baseline.

It is configured only through the environment, like the real bot:
DISCORD_TOKEN, DISCORD_API_BASE_URL, DISCORD_GATEWAY_URL (redirect discord.py to
the fake), optionally BARE_BOT_GUILD_ID (also sync a guild-only command there) and
BARE_BOT_PRIVILEGED=1 (ask for the members and message-content intents, which makes
discord.py chunk members at start-up, and answer "!hi" messages with a reply).
Each command exercises one Discord feature the fake must support; none contains
logic of its own, so a failure points at the fake or at discord.py's contract.

Run: DISCORD_TOKEN=... DISCORD_API_BASE_URL=... DISCORD_GATEWAY_URL=... python tests/bench/bare_bot.py
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import sys

import discord
import yarl
from discord import app_commands

log = logging.getLogger("bare_bot")
TITLES = ["Dune", "Dune: Part Two", "Dunkirk", "Arrival", "Blade Runner 2049"]


# Discord wants the first answer within 3 s; /late deliberately misses that.
TOO_LATE_SECONDS = 4.0


def point_at_endpoints() -> None:
    """The only change a bot needs to talk to the fake instead of Discord."""
    api = os.environ.get("DISCORD_API_BASE_URL")
    gateway = os.environ.get("DISCORD_GATEWAY_URL")
    if api:
        discord.http.Route.BASE = api.rstrip("/")
    if gateway:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)


class Buttons(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)
        self.add_item(discord.ui.Button(label="Off", custom_id="bare:off", disabled=True))

    @discord.ui.button(label="Yes", custom_id="bare:yes", style=discord.ButtonStyle.success)
    async def yes(self, interaction: discord.Interaction, button: discord.ui.Button[Buttons]) -> None:
        await interaction.response.edit_message(content="clicked yes", view=None)

    @discord.ui.button(label="No", custom_id="bare:no", style=discord.ButtonStyle.danger)
    async def no(self, interaction: discord.Interaction, button: discord.ui.Button[Buttons]) -> None:
        await interaction.response.send_message("you said no", ephemeral=True)


class Picker(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.select(
        custom_id="bare:sel",
        min_values=1,
        max_values=2,
        options=[
            discord.SelectOption(label="Alpha", value="a"),
            discord.SelectOption(label="Beta", value="b"),
            discord.SelectOption(label="Gamma", value="c"),
        ],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[Picker]) -> None:
        await interaction.response.send_message(f"picked {','.join(select.values)}")


class Form(discord.ui.Modal, title="Tell us why"):
    reason: discord.ui.TextInput[Form] = discord.ui.TextInput(label="Reason", custom_id="reason", max_length=100)
    extra: discord.ui.TextInput[Form] = discord.ui.TextInput(
        label="Extra", custom_id="extra", required=False, style=discord.TextStyle.paragraph
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"reason={self.reason.value} extra={self.extra.value or '-'}")


admin = app_commands.Group(
    name="admin", description="Admin tools", default_permissions=discord.Permissions(ban_members=True), guild_only=True
)
admin_user = app_commands.Group(name="user", description="User admin", parent=admin)


@admin_user.command(name="ban", description="Ban a user")
@app_commands.describe(user="Who", reason="Why")
async def admin_user_ban(interaction: discord.Interaction, user: discord.User, reason: str | None = None) -> None:
    await interaction.response.send_message(f"banned {user.name}: {reason or 'no reason'}", ephemeral=True)


def register(tree: app_commands.CommandTree[discord.Client]) -> None:
    @tree.command(description="Answers pong")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    @tree.command(description="Defers, then answers")
    @app_commands.choices(
        via=[app_commands.Choice(name="edit", value="edit"), app_commands.Choice(name="followup", value="followup")]
    )
    async def slow(interaction: discord.Interaction, via: str = "edit") -> None:
        await interaction.response.defer(thinking=True)
        await asyncio.sleep(0.2)
        if via == "edit":
            await interaction.edit_original_response(content="slow done")
        else:
            await interaction.followup.send("slow done via followup")

    @tree.command(description="Options of several types")
    @app_commands.describe(kind="Media kind", count="How many", who="For whom")
    @app_commands.choices(
        kind=[app_commands.Choice(name="Movie", value="movie"), app_commands.Choice(name="TV", value="tv")]
    )
    async def pick(
        interaction: discord.Interaction,
        kind: str,
        count: app_commands.Range[int, 1, 10],
        who: discord.User | None = None,
    ) -> None:
        target = who.mention if who else "nobody"
        await interaction.response.send_message(
            f"kind={kind} count={count} who={target}", allowed_mentions=discord.AllowedMentions.none()
        )

    @tree.command(description="Buttons")
    async def buttons(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("press one", view=Buttons())

    @tree.command(description="A select menu")
    async def choose(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("choose", view=Picker())

    @tree.command(description="Opens a modal")
    async def form(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Form())

    @tree.command(description="Ephemeral answer")
    async def secret(interaction: discord.Interaction) -> None:
        embed = discord.Embed(title="Secret", description="for your eyes only")
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @tree.command(description="Answers after 4 seconds (too late)")
    async def late(interaction: discord.Interaction) -> None:
        await asyncio.sleep(TOO_LATE_SECONDS)  # the bot under test misbehaving on purpose, not a test waiting
        try:
            await interaction.response.send_message("too late")
        except discord.HTTPException as exc:
            print(f"late failed: {exc.status} {exc.code}", flush=True)

    @tree.command(description="DMs you")
    async def dm(interaction: discord.Interaction) -> None:
        try:
            await interaction.user.send("hello from bare bot")
        except discord.Forbidden as exc:
            await interaction.response.send_message(f"dm failed: {exc.code}", ephemeral=True)
        else:
            await interaction.response.send_message("sent you a DM", ephemeral=True)

    @tree.command(description="Search with autocomplete")
    async def search(interaction: discord.Interaction, query: str) -> None:
        await interaction.response.send_message(f"you chose {query}")

    @search.autocomplete("query")
    async def search_complete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=t, value=t) for t in TITLES if t.lower().startswith(current.lower())]

    @tree.command(description="Uploads a file")
    async def upload(interaction: discord.Interaction) -> None:
        file = discord.File(io.BytesIO(b"hello attachment"), filename="report.txt")
        await interaction.response.send_message("here you go", file=file)

    @tree.command(description="Posts and pins a message in a channel")
    @app_commands.guild_only()
    async def announce(interaction: discord.Interaction, target: discord.TextChannel, text: str) -> None:
        msg = await target.send(text, allowed_mentions=discord.AllowedMentions.none())
        await msg.pin()
        await interaction.response.send_message(f"posted {msg.id}", ephemeral=True)

    tree.add_command(admin)


class BareBot(discord.Client):
    def __init__(self) -> None:
        intents = discord.Intents.default()
        if os.environ.get("BARE_BOT_PRIVILEGED") == "1":
            intents.members = True
            intents.message_content = True
        super().__init__(intents=intents)
        self.tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(self)
        register(self.tree)

    async def setup_hook(self) -> None:
        guild_id = os.environ.get("BARE_BOT_GUILD_ID")
        if guild_id:
            guild = discord.Object(int(guild_id))

            @self.tree.command(description="Guild-only ping", guild=guild)
            async def guildping(interaction: discord.Interaction) -> None:
                await interaction.response.send_message("guild pong")

            await self.tree.sync(guild=guild)
        await self.tree.sync()

    async def on_ready(self) -> None:
        members = sum(len(g.members) for g in self.guilds)
        print(f"READY as {self.user} in {len(self.guilds)} guild(s) with {members} member(s)", flush=True)

    async def on_message(self, message: discord.Message) -> None:
        if message.content == "!hi" and message.author != self.user:
            await message.reply(f"hi {message.author.mention}")


async def main() -> None:
    point_at_endpoints()
    logging.basicConfig(level=os.environ.get("BARE_BOT_LOG_LEVEL", "WARNING"), stream=sys.stdout)
    bot = BareBot()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(bot.close()))
    async with bot:
        await bot.start(os.environ["DISCORD_TOKEN"])


if __name__ == "__main__":
    asyncio.run(main())
