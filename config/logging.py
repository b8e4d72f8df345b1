"""The application log on disk: one file per day, kept LOG_RETENTION_DAYS days (网络安全法 第二十一条:
network logs kept no less than six months; 等保 2.0 audit records likewise).

`logging.handlers.TimedRotatingFileHandler` renames the current file at midnight, which is unsafe with
several processes writing one file (gunicorn workers, Celery): each renames it again and lines are lost.
Here no file is ever renamed: every process appends to the day's own file `<name>-YYYY-MM-DD.log`
(O_APPEND, so lines from several processes do not overwrite each other), moves to the next day's file at
local midnight, and removes the files older than the retention period."""

import datetime
import logging
import re
from pathlib import Path

MIN_RETENTION_DAYS = 180


class DailyFileHandler(logging.Handler):
    def __init__(self, directory: str, name: str = "minzheng", retention_days: int = MIN_RETENTION_DAYS):
        super().__init__()
        if retention_days < MIN_RETENTION_DAYS:
            raise ValueError(f"日志保存天数不得少于 {MIN_RETENTION_DAYS} 天（网络安全法 第二十一条）")
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.name_prefix = name
        self.retention_days = retention_days
        self._pattern = re.compile(rf"^{re.escape(name)}-(\d{{4}}-\d{{2}}-\d{{2}})\.log$")
        self._day: datetime.date | None = None
        self._stream = None

    def path_for(self, day: datetime.date) -> Path:
        return self.directory / f"{self.name_prefix}-{day:%Y-%m-%d}.log"

    def _today(self) -> datetime.date:
        return datetime.date.today()  # noqa: DTZ011 — the log's day is the server's local day

    def emit(self, record: logging.LogRecord) -> None:
        try:
            day = self._today()
            if day != self._day:
                self._open(day)
            self._stream.write(self.format(record) + "\n")
            self._stream.flush()
        except Exception:
            self.handleError(record)

    def _open(self, day: datetime.date) -> None:
        if self._stream is not None:
            self._stream.close()
        self._stream = open(self.path_for(day), "a", encoding="utf-8")  # noqa: SIM115 — kept open
        self._day = day
        self.remove_expired(day)

    def remove_expired(self, today: datetime.date) -> list[Path]:
        """Remove the day files older than the retention period; returns what was removed."""
        cutoff = today - datetime.timedelta(days=self.retention_days)
        removed = []
        for path in self.directory.iterdir():
            match = self._pattern.match(path.name)
            if not match:
                continue
            try:
                day = datetime.date.fromisoformat(match.group(1))
            except ValueError:
                continue
            if day < cutoff:
                try:
                    path.unlink()
                    removed.append(path)
                except FileNotFoundError:  # another process removed it first
                    pass
        return removed

    def close(self) -> None:
        self.acquire()
        try:
            if self._stream is not None:
                self._stream.close()
                self._stream = None
                self._day = None
        finally:
            self.release()
        super().close()


def logging_config(*, level: str, log_dir: str, retention_days: int, name: str) -> dict:
    """LOGGING for the settings: standard output, and the day files when `log_dir` is set."""
    handlers = {
        "console": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "plain"}
    }
    if log_dir:
        handlers["file"] = {
            "class": "config.logging.DailyFileHandler",
            "directory": log_dir,
            "name": name,
            "retention_days": retention_days,
            "formatter": "plain",
        }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s [%(name)s] pid=%(process)d %(message)s"}
        },
        "handlers": handlers,
        "root": {"handlers": list(handlers), "level": level},
        "loggers": {"axes": {"level": "WARNING"}},
    }
