"""The phrasings of a prompt injection: instructions addressed to the assessor inside evidence.

Each pattern has a name (recorded in findings) and runs on case-folded text in two views: as
written, and de-obfuscated (look-alike letters mapped to Latin, leetspeak undone, spaced-out letters
joined; see :func:`service.assessment.engine.injection.deobfuscate`). A few distinctive phrases are also
searched in a "squashed" view (letters only), which defeats separators between every letter.

They aim at text that *talks to the grader*: ordinary portfolio prose ("I ignored the noise and
focused on...", "the client gave us top ratings", "System: Ubuntu 22.04") must not match; the honest
samples in ``tests/assessment/engine/samples`` keep that in check.
"""

from __future__ import annotations

import re

_W = r"(?:\W+\w+){0,%d}?\W+"  # up to N intervening words, lazily


def _words(n: int) -> str:
    return _W % n


_AI = (
    r"(?:ai|a\.i\.|llm|llms|gpt|chatgpt|claude|gemini|language\s+model|model|assistant|chatbot|bot|"
    r"automated\s+(?:grader|assessor|evaluator|reviewer|system|scorer|judge)|"
    r"ai\s+(?:grader|assessor|evaluator|reviewer|system|scorer|judge))"
)
_GRADER = r"(?:grader|assessor|evaluator|examiner|marker|scorer|judge|grading\s+system|scoring\s+system)"
_PERSONA = r"(?:" + _GRADER + r"|reviewer|ai|assistant|model|bot|chatbot|persona|system)"
_TOP = r"(?:full|maximum|max|top|highest|perfect|best|excellent|expert|exemplary|advanced|outstanding)"
_MARKS = r"(?:marks?|scores?|points?|grades?|ratings?|credit|bands?)"
_ORDERS = (
    r"(?:instructions?|prompts?|directives?|rubric|rubrics|criteria|guardrails?|system\s+prompt|"
    r"(?:grading|scoring|assessment|evaluation)\s+(?:criteria|rules|guidelines|instructions|rubric))"
)
# An imperative: at the start of a sentence or clause, after "please"/"and"/"then", or "you must ...".
_DO = (
    r"(?:^|[.!?:;,(\-]\s*|\b(?:please|kindly|and|then|so|now|just|simply|must|should)\s+|"
    r"\byou\s+(?:should|must|will|shall|need\s+to|have\s+to|are\s+to|can|may)\s+)"
)

INSTRUCTION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE | re.MULTILINE))
    for name, pattern in (
        # English
        (
            "ignore_instructions",
            r"\b(?:ignore|disregard|forget|override|bypass|discard)\b" + _words(5) + _ORDERS + r"\b",
        ),
        (
            "ignore_above",
            r"\b(?:ignore|disregard|forget)\b\W+(?:all|any|everything|anything)\W+(?:\w+\W+){0,2}"
            r"(?:above|previous|prior|preceding|before\s+this)\b",
        ),
        ("award_marks", _DO + r"(?:award|give|assign|grant|allot)\b" + _words(5) + _TOP + r"\W+" + _MARKS + r"\b"),
        (
            "award_marks",
            _DO + r"(?:award|give|assign|grant)\b" + _words(4) + r"(?:10\s*/\s*10|5\s*/\s*5|100\s*/\s*100|a\+)(?!\w)",
        ),
        (
            "award_marks",
            _DO
            + r"(?:award|assign|grant|give|set)\b"
            + _words(4)
            + r"(?:the\s+)?"
            + _TOP
            + r"\s+levels?\s+(?:on|for|in|to|across)\b",
        ),
        (
            "award_marks",
            _DO + r"(?:rate|grade|mark|score)\s+(?:this(?:\s+\w+)?|me|the\s+\w+|him|her|them)\s+"
            r"(?:as\s+|at\s+)?(?:the\s+)?" + _TOP + r"\b",
        ),
        (
            "addressed_to_ai",
            r"\b(?:note|message|instructions?|attention|reminder|hint|memo|p\.?s\.?)\s*(?:to|for)\s+"
            r"(?:the\s+|any\s+|all\s+|an?\s+)?" + _AI + r"s?\b",
        ),
        (
            "addressed_to_ai",
            r"\b(?:note|message|instructions?|reminder|hint)\s+(?:to|for)\s+(?:the\s+|any\s+)?"
            r"(?:automated\s+|ai\s+)?" + _GRADER + r"s?\s*[:,-]",
        ),
        ("addressed_to_ai", r"\bdear\s+(?:" + _AI + "|" + _GRADER + r")\b"),
        ("addressed_to_ai", r"\bif\s+you\s+(?:are|'re)\s+(?:an?\s+)?" + _AI + r"\b"),
        ("addressed_to_ai", r"\b(?:attention|hey|hello|hi)\s*,?\s+" + _AI + r"\b\s*[:,!]"),
        ("role_play", r"\byou\s+are\s+now\s+(?:an?|the|my)\s+(?:\w+\s+){0,3}?" + _PERSONA + r"\b"),
        ("role_play", r"\bfrom\s+now\s+on,?\s+you\s+(?:will|must|are|should|shall)\b|\byou\s+will\s+now\s+act\b"),
        (
            "role_play",
            r"\bpretend\s+(?:to\s+be|you\s+are|that\s+you\s+are)\s+(?:an?\s+|the\s+)?(?:\w+\s+){0,2}?"
            + _PERSONA
            + r"\b",
        ),
        (
            "role_play",
            _DO + r"act\s+as\s+(?:an?\s+|the\s+|my\s+)?(?:\w+\s+){0,2}?(?:" + _GRADER + r"|ai|assistant|model|dan)\b",
        ),
        ("role_play", r"\b(?:let's|lets|let\s+us)\s+role[- ]?play\b|\brole[- ]?play\s+as\b"),
        ("jailbreak", r"\b(?:god|dan|jailbreak|unrestricted)\s+mode\b|\bjailbr(?:ea|o)k|\bdo\s+anything\s+now\b"),
        (
            "new_instructions",
            r"\b(?:new|updated|revised|real|actual|true|hidden|secret|override)\s+(?:system\s+)?instructions?"
            r"\s*(?::|for\s+(?:you|the\s+" + _AI + r"|the\s+" + _GRADER + r")\b)",
        ),
        ("new_instructions", r"\b(?:your|the)\s+(?:real|actual|true)\s+(?:instructions?|task)\s+(?:is|are)\b"),
        ("new_instructions", r"\bsystem\s+(?:prompt|message|override|instructions?)\s*[:=]"),
        (
            "new_instructions",
            r"\b(?:rubric|grading|scoring|criteria)\s+(?:has|have)\s+(?:been\s+)?(?:changed|updated|replaced|revised)\b",
        ),
        ("chat_markers", r"<\|\s*(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id)\s*\|>"),
        ("chat_markers", r"\[/?inst\]|<</?sys>>|<\s*/?\s*(?:system|instructions?)\s*>"),
        ("chat_markers", r"^\s*#{1,4}\s*(?:system|instruction|instructions|assistant)\s*(?:prompt|message)?\s*:?\s*$"),
        (
            "chat_markers",
            r"^\s*(?:system|assistant|developer)\s*:\s*(?:you|ignore|the\s+(?:candidate|user|submission)|"
            r"always|never|respond|output|assign|give|award|rate)\b",
        ),
        (
            "demand_pass",
            r"\b(?:this|the)\s+(?:candidate|submission|applicant|evidence|portfolio|student|freelancer)\s+"
            r"(?:must|should|shall|has\s+to|deserves?\s+to|is\s+to)\s+(?:pass|be\s+(?:approved|passed|accepted|"
            r"certified|awarded|issued|rated|graded|marked|given))",
        ),
        (
            "demand_pass",
            r"\b(?:mark|set|flag|record|classify)\s+(?:this|it|me|the\s+\w+)\s+as\s+"
            r"(?:passed|approved|verified|expert|exemplary|proficient|pass)\b",
        ),
        (
            "demand_pass",
            r"\bauto[- ]?(?:approve|issue|pass)\b"
            r"|\bset\s+(?:all|every|each)\s+(?:the\s+)?(?:criteria|criterion|levels?|scores?)\b",
        ),
        ("fake_output", r"\binjection_suspected\b"),
        (
            "fake_output",
            _DO
            + r"(?:respond|reply|answer|output)\s+(?:only\s+)?with\b"
            + _words(3)
            + r"(?:json|expert|maximum|pass|yes)\b",
        ),
        (
            "conceal",
            r"\bdo\s+not\s+(?:flag|report|mention|reveal|disclose)\b"
            + _words(3)
            + r"(?:instructions?|this|message|note|text)\b",
        ),
        # Spanish, Portuguese, French, Italian, German
        (
            "ignore_instructions",
            r"\b(?:ignora|ignore|ignorad|ignoren|olvida|omite|desconsidere)\b"
            + _words(3)
            + r"(?:instrucciones|instruções|instrucoes)\b",
        ),
        (
            "award_marks",
            r"\b(?:otorga|asigna|da|dale|pon|ponle|dé|de|atribua|conceda)\b"
            + _words(3)
            + r"(?:la\s+|a\s+)?(?:puntuaci[oó]n|calificaci[oó]n|nota|puntos|pontuação)\s+m[aá]xim[ao]s?\b",
        ),
        (
            "role_play",
            r"\b(?:ahora\s+eres|eres\s+ahora|você\s+agora\s+é|voce\s+agora\s+e)\s+(?:un|una|um|uma)\s+(?:\w+\s+){0,2}?"
            r"(?:evaluador|evaluadora|avaliador|asistente|assistente|ia|modelo|corrector|examinador)\b",
        ),
        ("ignore_instructions", r"\bignor(?:e|ez|er)\b" + _words(3) + r"(?:instructions|consignes)\b"),
        ("award_marks", r"\b(?:attribu|donn|accord|mett)(?:e|ez|er)\b" + _words(3) + r"(?:note|score)\s+maximal"),
        (
            "role_play",
            r"\b(?:tu\s+es|vous\s+êtes|vous\s+etes)\s+(?:maintenant|désormais|desormais)\s+(?:un|une)\s+(?:\w+\s+){0,2}?"
            r"(?:évaluateur|evaluateur|correcteur|assistant|ia|modèle|modele|examinateur)\b",
        ),
        ("ignore_instructions", r"\bignora\b" + _words(3) + r"istruzioni\b"),
        ("award_marks", r"\b(?:assegna|dai|dare)\b" + _words(3) + r"(?:punteggio|voto)\s+massimo"),
        (
            "ignore_instructions",
            r"\bignorier(?:e|en|t)?\b" + _words(3) + r"(?:anweisungen|instruktionen|vorgaben|anordnungen)\b",
        ),
        (
            "award_marks",
            r"\b(?:vergib|gib|gebe|geben\s+sie|vergeben\s+sie)\b"
            + _words(3)
            + r"(?:volle|höchste|hochste|maximale)\s+(?:punktzahl|punkte|note|bewertung)",
        ),
        (
            "role_play",
            r"\bdu\s+bist\s+(?:jetzt|nun|ab\s+sofort)\s+(?:ein|eine)\s+(?:\w+\s+){0,2}?"
            r"(?:bewerter|prüfer|prufer|gutachter|assistent|ki|modell)\b",
        ),
        # Russian, Chinese, Japanese
        ("ignore_instructions", r"игнорируй.{0,30}инструкци|забудь.{0,30}инструкци"),
        ("award_marks", r"(?:поставь|дай|выстави).{0,30}(?:максимальн|высш)"),
        ("ignore_instructions", r"忽略.{0,8}(?:指令|指示|提示|说明|规则)|無視.{0,8}(?:指示|命令)"),
        ("award_marks", r"(?:给|打|评).{0,4}满分|满分.{0,4}(?:给|打)"),
        ("role_play", r"你现在是.{0,6}(?:评分|评审|助手|模型|考官)"),
    )
)

# Distinctive phrases searched with every non-letter removed ("i.g.n.o.r.e p-r-e-v-i-o-u-s ...").
SQUASHED_PHRASES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "ignore_instructions",
        re.compile(
            r"(?:ignore|disregard)(?:all|any)?(?:the|your)?(?:previous|prior|above|earlier)?"
            r"(?:instructions|prompts|rubric)"
        ),
    ),
    (
        "award_marks",
        re.compile(
            r"(?:award|give|assign|grant)(?:me|this|him|her|them|the)?(?:candidate|submission)?"
            r"(?:full|maximum|max|perfect|top)(?:marks|score|points|grade)"
        ),
    ),
)
