"""Operations console (/console): leads, campaigns, content status, compliance audit, training; behind a login."""
