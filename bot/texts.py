"""What the bot says on its own (not model text), in Spanish, shared by every platform."""

from __future__ import annotations

from bot.core import Gate, RefreshReport, RefreshRun

WELCOME = (
    "¡Hola! Soy TuyaBot, el asistente virtual de TUYA. Respondo preguntas sobre las tarjetas de crédito, "
    "CrediCompras, la Cuenta Digital TuyaPay, seguros, pagos y demás productos de TUYA, con la información "
    "publicada en tuya.com.co, y te digo de qué páginas la tomé.\n\nEscríbeme tu pregunta."
)
HELP = (
    "Escríbeme una pregunta sobre los productos de TUYA, por ejemplo: «¿Cuál es el monto máximo de un "
    "CrediCompras?». Puedes seguir con preguntas como «¿y a qué plazo?».\n\n"
    "/reset: empezar una conversación nueva\n/olvidar: borrar todos tus datos guardados\n/help: esta ayuda"
)
ONLY_TEXT = "Por ahora solo puedo leer texto. Escríbeme tu pregunta, por favor."
TOO_LONG = "Tu mensaje es muy largo (máximo {limit} caracteres). ¿Puedes escribir tu pregunta más corta?"
RATE_LIMITED = "Espera un momento, por favor: recibí varios mensajes seguidos. Intenta de nuevo en unos segundos."
BUSY = "En este momento estoy atendiendo muchas consultas. Intenta de nuevo en un minuto, por favor."
QUEUED = "Recibí tu pregunta. {ahead} antes que la tuya; te respondo en cuanto pueda."
ERROR = "Lo siento, tuve un problema al responder. Intenta de nuevo en un momento."
SHUTTING_DOWN = ("Lo siento, me estoy reiniciando y no alcancé a responderte. Vuelve a escribirme tu pregunta en "
                 "un minuto, por favor.")
RESET_DONE = "Listo, empecemos de nuevo. ¿En qué te ayudo?"
FORGET_CONFIRM = ("¿Quieres que borre todos tus datos guardados (conversaciones y opiniones)? "
                  "Esta acción no se puede deshacer.")
FORGET_YES = "Sí, borrar mis datos"
FORGET_NO = "Cancelar"
FORGET_DONE = "Listo, borré todos tus datos guardados."
FORGET_CANCELLED = "No borré nada."
FEEDBACK_THANKS = "¡Gracias por tu opinión!"
FEEDBACK_GONE = "Esa respuesta ya no está guardada (la conversación se borró)."
SOURCES = "Fuentes:"
WEB_NO_ACCESS = "Esta página necesita un enlace con acceso. Pídelo a quien administra TuyaBot."
WEB_NO_SESSION = "Abre de nuevo la página del chat, por favor."
SLACK_STATUS = "está buscando en tuya.com.co…"
SLACK_LOADING = ("Buscando en las páginas de TUYA…", "Leyendo lo que encontré…", "Escribiendo la respuesta…")
REFRESH_STARTED = "Actualizando el índice de tuya.com.co. Sigo respondiendo mientras tanto; te aviso al terminar."
REFRESH_REFUSED = "Lo siento, solo los administradores pueden actualizar el índice."
REFRESH_BUSY = "Ya hay una actualización del índice en curso{by}; te aviso cuando termine."
REFRESH_FAILED = "La actualización del índice falló y el índice anterior sigue activo: {error}"


def gate_reply(gate: Gate, limit: int) -> str:
    """What a message stopped by the core's gate gets back."""
    if gate is Gate.TOO_LONG:
        return TOO_LONG.format(limit=limit)
    if gate is Gate.RATE_LIMITED:
        return RATE_LIMITED
    return HELP


def queued(ahead: int) -> str:
    """The first reply to a question that has to wait for others (with its place in the queue)."""
    return QUEUED.format(ahead="Hay 1 consulta" if ahead == 1 else f"Hay {ahead} consultas")


def refresh_busy(running: RefreshRun | None) -> str:
    """The reply to a refresh request while another runs: who started that one, from where, and when."""
    if running is None:
        return REFRESH_BUSY.format(by="")
    who = "la programación automática" if running.platform == "schedule" else f"{running.user_id} ({running.platform})"
    return REFRESH_BUSY.format(by=f", iniciada por {who} a las {running.started_at:%H:%M} UTC")


def refresh_report(report: RefreshReport) -> str:
    """The refresh report as the admin reads it."""
    lines = [
        "Índice actualizado.",
        f"Nuevas: {len(report.added)}", *(f"  + {u}" for u in report.added),
        f"Cambiadas: {len(report.changed)}", *(f"  ~ {u}" for u in report.changed),
        f"Eliminadas: {len(report.removed)}", *(f"  - {u}" for u in report.removed),
        f"Conservadas tras un error: {len(report.kept_after_error)}", *(f"  ! {u}" for u in report.kept_after_error),
        f"Sin cambios: {len(report.unchanged)}",
        f"Fragmentos vectorizados: {report.chunks_embedded} de {report.chunks_total}",
        f"Tiempo: {report.seconds:.1f} s",
    ]
    return "\n".join(lines)
