"""`aplus seed volume`: a realistic, large data set for the benchmark, bulk-loaded with COPY.

Spread: demandes over every département (a few dense ones, a long tail), 1–3 partner groups
each, creation dates over two years, statuses by age (old ones mostly archived), ~5 messages
each with 10 % instructor-only. One "bench" CAF group in Paris receives 5 % of all demandes
(50 000 at 1 M): the benchmark logs in as one of its instructeurs.

Speed: rows are generated in Python by batches and sent with asyncpg's binary COPY; triggers
(and foreign-key checks, which are triggers) are off for the session, so the denormalised
columns and search vectors are computed here; secondary indexes are dropped during the load
and rebuilt once at the end.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

import asyncpg

from app import clock
from app.domain import business_days
from app.domain.inbox import fold
from app.domain.reference import DEPARTEMENTS
from app.settings import get_settings

DOMAIN = "volume.aplus.localhost"
BENCH_EMAIL = f"bench.instructeur@{DOMAIN}"
BENCH_AIDANT_EMAIL = f"bench.aidant@{DOMAIN}"
BENCH_GROUP = "CAF de Paris (volume)"
BENCH_SHARE = 0.05
BATCH = 5000
LONG_THREAD = 50
LONG_THREAD_SHARE = 0.004

PARTNERS = ["caf", "cpam", "dgfip", "france-travail", "carsat", "msa", "mdph", "prefecture"]
INSTRUCTORS_PER_GROUP = 3
BENCH_INSTRUCTORS = 5
HELPER_GROUPS_PER_AREA = 3
AIDANTS_PER_GROUP = 4

FIRST_NAMES = (
    "Élodie Hélène Gaëlle Léa Chloé Zoé Inès Maëlle Noémie Amélie Jérôme François Stéphane"
    " Benoît Grégoire Loïc Anaïs Cécile Thérèse Joël Mohamed Fatou Karim Yasmine Sébastien"
    " Marie Jean Pierre Sophie Nathalie Isabelle Thomas Nicolas Julien Camille Manon Lucas"
    " Emma Louise Alice Lina Rose Anna Mila Ambre Julia Jade Léna Juliette Margaux Clara Lucie"
    " Sarah Eva Romane Agathe Capucine Victoire Salomé Mathilde Pauline Charlotte Laura Audrey"
    " Aurélie Émilie Céline Virginie Sandrine Valérie Christine Martine Monique Brigitte Odile"
    " Aïcha Khadija Samira Leïla Nadia Mariam Awa Aminata Ludivine Solène Océane Morgane Elsa"
    " Gabriel Léo Raphaël Arthur Louis Jules Adam Maël Hugo Noah Ethan Paul Sacha Nathan Tom"
    " Théo Enzo Mathis Antoine Maxime Alexandre Guillaume Romain Vincent Olivier Laurent Éric"
    " Philippe Patrick Michel Alain Bernard Daniel Gérard Christophe Frédéric David Yannick"
    " Mamadou Moussa Ibrahima Youssef Rachid Samir Ahmed Hamza Bilal Mehdi Kevin Dylan Baptiste"
).split()
# Real surnames plus composed ones: about 1 700 in all, so that a first and last name pair
# matches a few hundredths of a percent of the demandes, not 1 % (real names are selective).
_REAL_LAST_NAMES = (
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent"
    " Lefèvre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefebvre"
    " Mercier Dupont Lambert Bonnet François Martinez Legrand Garnier Faure Rousseau Blanc"
    " Guérin Muller Henry Roussel Nicolas Perrin Morin Mathieu Clément Gauthier Dumont Lopez"
    " Fontaine Chevalier Robin Masson Sánchez Gérard Nguyen Boyer Denis Lemaire Duval Joly"
    " Gautier Roger Roche Roy Noël Meyer Lucas Meunier Jean Pérez Marchand Dufour Blanchard"
    " Barbier Brun Dumas Brunet Schmitt Leroux Colin Fernandez Pierre Renard Arnaud Rolland"
    " Caron Aubert Giraud Leclerc Vidal Bourgeois Renaud Lemoine Picard Gaillard Philippe"
    " Lacroix Dupuis Olivier Rodriguez Louis Hubert Benoît Bouvier Paris Moulin Lebrun Cœur"
).split()
_STEMS = (
    "Ber Mar Dur Lam Gar Bon Fon Ros Cha Mon Bel Bro Cor Dal Fer Gil Her Jol Lan Mor Nau Pel"
    " Rav Sal Tes Vau Bou Cla Ger Mal Bar Cas Dor Fav Gou Lav Mich Pag Riv Tail"
).split()
_ENDINGS = (
    "and in ot eau ier on ard et oux ais ac elle ez iot enne ault aud ant el ey"
    " ange elin ignac ousse ette ieux ard-Petit ès ois uc ol illon ard-Roux as ert ive ac-Duval"
    " oche ure age"
).split()
LAST_NAMES = _REAL_LAST_NAMES + [s + e for s in _STEMS for e in _ENDINGS]
SUBJECTS = [
    "RSA suspendu depuis trois mois",
    "Prime d'activité non versée",
    "Carte Vitale perdue, soins urgents",
    "Complémentaire santé solidaire refusée",
    "Dossier de retraite bloqué",
    "Avis d'imposition introuvable",
    "Inscription France Travail impossible",
    "Allocation logement interrompue",
    "Titre de séjour expiré, rendez-vous impossible",
    "Demande AAH sans réponse",
    "Indu CAF contesté",
    "Pension d'invalidité suspendue",
    "Changement de situation non pris en compte",
    "Aide au logement après séparation",
    "Rattachement enfants à la sécurité sociale",
    "Échéancier de paiement des impôts",
    "Relevé de carrière incomplet",
    "Arrêt maladie non indemnisé",
    "Domiciliation refusée",
    "Remboursement de frais médicaux bloqué",
]
PHRASES = [
    "Bonjour, je regarde la situation et je reviens vers vous.",
    "Le dossier est en cours d'instruction par nos services.",
    "Pouvez-vous nous transmettre le dernier avis d'imposition ?",
    "La pièce justificative a bien été reçue, merci.",
    "Un rendez-vous téléphonique est proposé à l'usager jeudi.",
    "Le versement a été régularisé ce matin.",
    "Il manque l'attestation de l'employeur pour débloquer le dossier.",
    "L'usager a été recontacté, la situation évolue.",
    "Je transmets au service compétent à Évry.",
    "Le droit est rouvert à compter du mois dernier.",
    "Merci pour votre retour rapide, l'usager est rassuré.",
    "Nous attendons la décision de la commission.",
    "La carte a été commandée, délai d'environ dix jours.",
    "Le trop-perçu est annulé après examen du dossier.",
]
PRIVATE_PHRASES = [
    "Entre nous : le dossier a été classé par erreur au service contentieux.",
    "Note interne : vérifier l'historique des paiements avant de répondre.",
    "Pour info, la responsable valide la remise gracieuse.",
]


@dataclass
class Stats:
    demandes: int = 0
    answers: int = 0
    participations: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class World:
    """Groups and accounts the demandes are spread over."""

    partner_groups: dict[str, list[tuple[uuid.UUID, list[uuid.UUID]]]]
    helper_groups: dict[str, list[tuple[uuid.UUID, list[uuid.UUID]]]]
    bench_group: uuid.UUID
    bench_instructors: list[uuid.UUID]
    names: dict[uuid.UUID, str]


def _area_weights(codes: list[str]) -> list[float]:
    # A long tail: a few dense départements (Zipf-like), every one present.
    rng = random.Random(7)
    shuffled = codes[:]
    rng.shuffle(shuffled)
    rank = {c: i + 1 for i, c in enumerate(shuffled)}
    for dense in ("75", "93", "13", "59", "69"):
        rank[dense] = 1
    return [1.0 / rank[c] ** 0.8 for c in codes]


async def _ensure_world(conn: asyncpg.Connection, rng: random.Random) -> World:
    """Create (once) the volume groups and accounts; reload them on later runs."""
    cgu = get_settings().cgu_version
    now = clock.now()
    areas = [d.code for d in DEPARTEMENTS]
    if not await conn.fetchval("SELECT 1 FROM app_user WHERE email = $1", BENCH_EMAIL):
        groups, users, members = [], [], []

        def user(email: str, helper: bool, instructor: bool) -> uuid.UUID:
            uid = uuid.uuid4()
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            users.append((uid, email, first, last, helper, instructor, cgu, now, now))
            return uid

        n = 0
        bench = uuid.uuid4()
        groups.append((bench, BENCH_GROUP, "caf", ["75"], now))
        for i in range(BENCH_INSTRUCTORS):
            email = BENCH_EMAIL if i == 0 else f"bench.instructeur{i}@{DOMAIN}"
            members.append((uuid.uuid4(), user(email, False, True), bench, i == 0, now))
        for area in areas:
            for org in PARTNERS:
                gid = uuid.uuid4()
                groups.append((gid, f"{org.upper()} {area} (volume)", org, [area], now))
                for _ in range(INSTRUCTORS_PER_GROUP):
                    n += 1
                    uid = user(f"instructeur{n}@{DOMAIN}", False, True)
                    members.append((uuid.uuid4(), uid, gid, False, now))
            for k in range(HELPER_GROUPS_PER_AREA):
                gid = uuid.uuid4()
                groups.append(
                    (gid, f"France Services {area}-{k} (volume)", "france-services", [area], now)
                )
                for j in range(AIDANTS_PER_GROUP):
                    n += 1
                    email = (
                        BENCH_AIDANT_EMAIL
                        if (area, k, j) == ("75", 0, 0)
                        else (f"aidant{n}@{DOMAIN}")
                    )
                    members.append((uuid.uuid4(), user(email, True, False), gid, j == 0, now))
        await conn.copy_records_to_table(
            "app_group",
            records=groups,
            columns=["id", "name", "organisation", "areas", "created_at"],
        )
        await conn.copy_records_to_table(
            "app_user",
            records=users,
            columns=[
                "id",
                "email",
                "first_name",
                "last_name",
                "is_helper",
                "is_instructor",
                "cgu_version",
                "cgu_accepted_at",
                "created_at",
            ],
        )
        await conn.copy_records_to_table(
            "membership",
            records=members,
            columns=["id", "user", "group", "is_manager", "created_at"],
        )
    rows = await conn.fetch(
        'SELECT g.id, g.name, g.organisation, g.areas[1] AS area, m."user",'
        " u.first_name || ' ' || u.last_name AS name, u.email"
        ' FROM app_group g JOIN membership m ON m."group" = g.id JOIN app_user u ON u.id = m."user"'
        " WHERE g.name LIKE '%(volume)' ORDER BY g.id, u.email"
    )
    partner: dict[str, dict[uuid.UUID, list]] = {}
    helper: dict[str, dict[uuid.UUID, list]] = {}
    names: dict[uuid.UUID, str] = {}
    bench_group, bench_instructors = None, []
    for r in rows:
        names[r["user"]] = r["name"]
        if r["name"] and r["email"].startswith("bench.instructeur"):
            bench_group = r["id"]
            bench_instructors.append(r["user"])
            continue
        target = helper if r["organisation"] == "france-services" else partner
        target.setdefault(r["area"], {}).setdefault(r["id"], []).append(r["user"])
    return World(
        partner_groups={a: list(g.items()) for a, g in partner.items()},
        helper_groups={a: list(g.items()) for a, g in helper.items()},
        bench_group=bench_group,
        bench_instructors=bench_instructors,
        names=names,
    )


def _status_for_age(days: float, rng: random.Random) -> str:
    r = rng.random()
    if days > 60:
        table = (("archived", 0.90), ("processed", 0.06), ("in_progress", 0.03), ("new", 0.01))
    elif days > 15:
        table = (("archived", 0.45), ("processed", 0.25), ("in_progress", 0.25), ("new", 0.05))
    else:
        table = (("archived", 0.10), ("processed", 0.20), ("in_progress", 0.45), ("new", 0.25))
    for status, share in table:
        r -= share
        if r < 0:
            return status
    return "new"


def _usager_fields(rng: random.Random) -> list[dict]:
    fields = []
    if rng.random() < 0.6:
        nir = f"{rng.choice('12')}{rng.randint(40, 99)}{rng.randint(1, 12):02d}"
        nir += f"{rng.randint(1, 95):02d}{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}"
        fields.append({"code": "nir", "value": f"{nir} {97 - int(nir) % 97:02d}"})
    if rng.random() < 0.4:
        fields.append({"code": "caf_id", "value": str(rng.randint(1000000, 9999999))})
    return fields


_fold = lru_cache(maxsize=8192)(fold)


class _Batch:
    def __init__(self):
        self.applications: list[tuple] = []
        self.groups: list[tuple] = []
        self.participations: list[tuple] = []
        self.answers: list[tuple] = []
        self.mandats: list[tuple] = []


def _make_demande(
    world: World, rng: random.Random, now: datetime, areas, weights, batch: _Batch
) -> None:
    bench = rng.random() < BENCH_SHARE
    area = "75" if bench else rng.choices(areas, weights)[0]
    helper_groups = world.helper_groups[area]
    creator_group, aidants = rng.choice(helper_groups)
    creator = rng.choice(aidants)
    partners = world.partner_groups[area]
    targets = rng.sample(partners, k=rng.choice((1, 1, 1, 2, 2, 3)))
    if bench:
        targets[0] = (world.bench_group, world.bench_instructors)
    # Two years, more demandes recently (the service grows).
    age_days = 730 * (rng.random() ** 1.6)
    created_at = now - timedelta(days=age_days, seconds=rng.randint(0, 86399))
    status = _status_for_age(age_days, rng)
    app_id = uuid.uuid4()

    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    subject = rng.choice(SUBJECTS)
    description = " ".join(rng.sample(PHRASES, 2))
    fields = _usager_fields(rng)
    instructors = [u for _, members in targets for u in members]

    # The thread, consistent with the status.
    thread = []  # (author, kind, visibility, body, marks_processed, at)
    t = created_at
    span = max(min(age_days, 40.0), 0.05)
    n_messages = {"new": rng.choice((0, 0, 1)), "in_progress": rng.randint(1, 7)}.get(
        status, rng.randint(2, 7)
    )
    if bench and rng.random() < LONG_THREAD_SHARE:
        # A few long threads for the benchmark of the demande page (50 messages).
        status, n_messages = "in_progress", LONG_THREAD
        span = max(span, 10.0)
    for i in range(n_messages):
        t = min(t + timedelta(days=rng.random() * span / max(n_messages, 1)), now)
        if status == "new":
            author = creator
        else:
            author = rng.choice(instructors) if i % 2 == 0 or rng.random() < 0.3 else creator
        private = author != creator and rng.random() < 0.1
        body = rng.choice(PRIVATE_PHRASES if private else PHRASES)
        thread.append([author, "message", "instructors" if private else "public", body, False, t])
    if status in ("processed", "archived") and thread:
        last_by_instructor = next(
            (e for e in reversed(thread) if e[0] != creator and e[2] == "public"), None
        )
        if last_by_instructor is None:
            t = min(t + timedelta(hours=rng.randint(1, 48)), now)
            thread.append(
                [rng.choice(instructors), "message", "public", rng.choice(PHRASES), True, t]
            )
        else:
            thread.remove(last_by_instructor)
            last_by_instructor[4] = True
            last_by_instructor[5] = t
            thread.append(last_by_instructor)
    archived_at = None
    if status == "archived":
        t = min(t + timedelta(hours=rng.randint(1, 240)), now)
        thread.append([creator, "archive", "public", "", False, t])
        archived_at = t

    real = [e for e in thread if e[1] == "message"]
    by_others = [e for e in real if e[0] != creator]
    first_answer_at = by_others[0][5] if by_others else None
    last_answer_at = by_others[-1][5] if by_others else None
    if status in ("in_progress", "processed", "archived") and first_answer_at is None:
        status = "new"
    processed_at = real[-1][5] if real and real[-1][4] else None
    if status == "in_progress" and processed_at:
        status = "processed"
    updated_at = thread[-1][5] if thread else created_at
    late_at = None
    if status in ("new", "in_progress"):
        late_at = business_days.late_at(created_at, last_answer_at, area)
    usefulness = rng.choice(("oui", "oui", "oui", "ne_sait_pas", "non")) if archived_at else None

    group_ids = sorted({g for g, _ in targets} | {creator_group})
    participants = {creator: (True, creator_group)}
    for gid, members in targets:
        for u in members:
            participants.setdefault(u, (False, gid))
    # Pieces come from small vocabularies: folding each once keeps generation fast.
    public_text = " ".join(
        [_fold(subject), _fold(first), _fold(last), _fold(description)]
        + [f["value"] + " " + f["value"].replace(" ", "") for f in fields]
        + [_fold(e[3]) for e in thread if e[2] == "public"]
        + [_fold(world.names.get(u, "")) for u in participants]
    )
    private_text = " ".join(_fold(e[3]) for e in thread if e[2] != "public")
    batch.applications.append(
        (
            app_id,
            creator,
            creator_group,
            area,
            subject,
            first,
            last,
            date(1950 + rng.randint(0, 55), rng.randint(1, 12), rng.randint(1, 28)),
            fields,
            description,
            status,
            created_at,
            first_answer_at,
            last_answer_at,
            updated_at,
            late_at,
            processed_at,
            archived_at,
            usefulness,
            rng.random() < 0.08,
            len(real),
            public_text,
            private_text,
            # The participants' scope keys (see aplus_scope_key in the migrations).
            ["#" + u.hex for u in participants],
        )
    )
    for gid, _ in targets:
        batch.groups.append((uuid.uuid4(), app_id, gid, creator, created_at))
    for u, (is_creator, gid) in participants.items():
        if is_creator:
            seen = updated_at
        elif status == "new":
            seen = created_at + timedelta(hours=rng.randint(1, 48)) if rng.random() < 0.3 else None
        else:
            seen = updated_at if rng.random() < 0.8 else None
        if seen is not None and seen > now:
            seen = now
        batch.participations.append(
            (
                uuid.uuid4(),
                app_id,
                u,
                is_creator,
                gid,
                None if is_creator else creator,
                created_at,
                seen,
                status,
                updated_at,
                late_at,
                group_ids,
                # What aplus_reads_content / aplus_reads_private give for these accounts
                # (creators are aidants, the invited are instructeurs, nobody is an expert);
                # the volume test compares with the SQL functions.
                True,
                not is_creator,
            )
        )
    for author, kind, visibility, body, processed, at in thread:
        batch.answers.append((uuid.uuid4(), app_id, author, kind, visibility, body, processed, at))
    batch.mandats.append((uuid.uuid4(), app_id, "paper", created_at.date(), created_at))


APPLICATION_COLUMNS = [
    "id",
    "creator",
    "creator_group",
    "area",
    "subject",
    "usager_first_name",
    "usager_last_name",
    "usager_birth_date",
    "usager_fields",
    "description",
    "status",
    "created_at",
    "first_answer_at",
    "last_answer_at",
    "updated_at",
    "late_at",
    "processed_at",
    "archived_at",
    "usefulness",
    "is_irrelevant",
    "answers_count",
]
PARTICIPATION_COLUMNS = [
    "id",
    "application",
    "user",
    "is_creator",
    "group",
    "invited_by",
    "created_at",
    "last_seen_at",
    "app_status",
    "app_updated_at",
    "app_late_at",
    "app_groups",
    "reads_content",
    "reads_private",
]
ANSWER_COLUMNS = [
    "id",
    "application",
    "author",
    "kind",
    "visibility",
    "body",
    "marks_processed",
    "created_at",
]
BULK_TABLES = ("application", "application_group", "participation", "answer", "mandat")


async def _drop_secondary_indexes(conn: asyncpg.Connection) -> list[str]:
    """Drop the indexes no constraint needs; returns their definitions to rebuild them."""
    rows = await conn.fetch(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i"
        " WHERE i.schemaname = 'public' AND i.tablename = ANY($1::text[])"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        list(BULK_TABLES),
    )
    for r in rows:
        await conn.execute(f'DROP INDEX "{r["indexname"]}"')
    return [r["indexdef"] for r in rows]


async def seed_volume(
    n: int,
    *,
    dsn: str,
    seed: int = 42,
    progress: Callable[[int], None] = lambda done: None,
    step: Callable[[str], None] = lambda label: None,
) -> Stats:
    """Load `n` demandes (with their threads, groups and participants) as fast as possible."""
    import json
    import time

    started = time.monotonic()
    rng = random.Random(seed)
    stats = Stats()
    conn = await asyncpg.connect(dsn)
    # Binary COPY needs a binary jsonb codec: a version byte, then the JSON text.
    await conn.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        format="binary",
        encoder=lambda value: b"\x01" + json.dumps(value).encode(),
        decoder=lambda data: json.loads(data[1:]),
    )
    try:
        # Triggers (and FK checks) off: this loader writes the copies and vectors itself.
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("SET maintenance_work_mem = '512MB'")
        world = await _ensure_world(conn, rng)
        now = clock.now()
        areas = sorted(world.partner_groups)
        weights = _area_weights(areas)
        step("Suppression provisoire des index secondaires")
        index_defs = await _drop_secondary_indexes(conn)
        await conn.execute(
            "CREATE UNLOGGED TABLE IF NOT EXISTS volume_application_stage"
            " (LIKE application INCLUDING DEFAULTS, public_text text, private_text text,"
            " scope_keys text[])"
        )
        await conn.execute("TRUNCATE volume_application_stage")
        try:
            step("Génération et COPY")
            done = 0
            while done < n:
                batch = _Batch()
                size = min(BATCH, n - done)
                for _ in range(size):
                    _make_demande(world, rng, now, areas, weights, batch)
                # Applications go through the stage so PostgreSQL computes the vectors.
                await conn.copy_records_to_table(
                    "volume_application_stage",
                    records=batch.applications,
                    columns=[*APPLICATION_COLUMNS, "public_text", "private_text", "scope_keys"],
                )
                await conn.copy_records_to_table(
                    "application_group",
                    records=batch.groups,
                    columns=["id", "application", "group", "invited_by", "created_at"],
                )
                await conn.copy_records_to_table(
                    "participation", records=batch.participations, columns=PARTICIPATION_COLUMNS
                )
                await conn.copy_records_to_table(
                    "answer", records=batch.answers, columns=ANSWER_COLUMNS
                )
                await conn.copy_records_to_table(
                    "mandat",
                    records=batch.mandats,
                    columns=["id", "application", "kind", "obtained_on", "created_at"],
                )
                done += size
                stats.answers += len(batch.answers)
                stats.participations += len(batch.participations)
                progress(size)
            stats.timings["copy"] = time.monotonic() - started
            step("Vecteurs de recherche (to_tsvector)")
            cols = ", ".join(f'"{c}"' for c in APPLICATION_COLUMNS)
            await conn.execute(
                f"INSERT INTO application ({cols}, search_public, search_private)"
                f" SELECT {cols},"
                " to_tsvector('french', public_text) || array_to_tsvector(scope_keys),"
                " to_tsvector('french', private_text) || array_to_tsvector(scope_keys)"
                " FROM volume_application_stage"
            )
            await conn.execute("DROP TABLE volume_application_stage")
            stats.timings["vectors"] = time.monotonic() - started
        finally:
            step("Reconstruction des index")
            for definition in index_defs:
                await conn.execute(definition)
            stats.timings["indexes"] = time.monotonic() - started
        step("VACUUM ANALYZE")
        for table in (*BULK_TABLES, "app_user", "app_group", "membership"):
            await conn.execute(f"VACUUM ANALYZE {table}")
        stats.timings["vacuum"] = time.monotonic() - started
    finally:
        await conn.close()
    stats.demandes = n
    stats.seconds = time.monotonic() - started
    return stats
