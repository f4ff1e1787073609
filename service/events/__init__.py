"""The event outbox: what happened (a credential issued, revoked, an assessment decided...),
written in the same transaction as the change, so a crash after the commit loses no event and a
rolled-back change emits none. Webhooks (:mod:`service.webhooks`) deliver them."""
