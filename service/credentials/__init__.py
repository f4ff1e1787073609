"""Issued credentials and their recipients: the one issuing path (:mod:`.issuing`) and its entry
points (:mod:`.entry_points`), reading (:mod:`.service`), revoking and suspending (:mod:`.lifecycle`)."""
