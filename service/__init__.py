"""SkillCred: a skill-credential validation service issuing verifiable Open Badges 3.0 credentials."""
