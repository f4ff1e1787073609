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
        # Spanish, Portuguese, French, Italian, German (more below, with the grader-addressed phrasings)
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
        # Addressed to whoever (or whatever) grades, and telling it the outcome
        (
            "addressed_to_ai",
            r"\b(?:note|message|memo|reminder|hint|instructions?|p\.?s\.?)\s*(?:to|for)\s+(?:whoever|whomever|anyone\s+who|"
            r"anybody\s+who|the\s+(?:person|one|thing|system)\s+(?:that\s+|who\s+)?)\s*(?:is\s+)?"
            r"(?:evaluat|grad|assess|scor|mark|judg|rat)\w*\s+(?:this|these|my|me|the)\b",
        ),
        (
            "addressed_to_ai",
            r"\b(?:whoever|anyone|anybody)\s+(?:is\s+)?(?:evaluating|grading|assessing|scoring|marking|judging)\s+"
            r"(?:this|these|me|my)\b\W+(?:\w+\W+){0,8}?(?:highest|top|maximum|max|full|perfect|best|advanced|expert|pass)\b",
        ),
        (
            "addressed_to_ai",
            r"\bas\s+(?:the|an?|my)\s+(?:\w+\s+){0,2}?(?:model|ai|llm|grader|assessor|evaluator|assistant|judge|marker|"
            r"scorer|reviewer)\s*,\s*(?:you|your)\b",
        ),
        (
            "demand_pass",
            r"\b(?:the\s+)?(?:correct|right|only\s+(?:correct|fair|acceptable|reasonable)|appropriate|expected|fair|proper|"
            r"deserved|intended)\s+(?:outcome|result|level|score|grade|rating|decision|verdict|assessment|mark)\s+"
            r"(?:here\s+|for\s+(?:this|me|it|my\s+\w+)\s+)?(?:is|would\s+be|should\s+be|will\s+be|=)\s+(?:the\s+|a\s+)?"
            r"(?:highest|top|maximum|max|best|full|perfect|advanced|expert|exemplary|pass|approv\w*|auto[- ]?issue)",
        ),
        (
            "fake_output",
            r"\byour\s+(?:next\s+|final\s+|only\s+)?(?:output|response|answer|reply|verdict|judg(?:e)?ment|evaluation|"
            r"assessment|score|grade|rating|decision)\s+(?:should|must|will|shall|needs?\s+to|has\s+to|is\s+to)\s+"
            r"(?:mark|rate|give|assign|award|set|record|score|grade|pass|approve|say|read|state|be\s+(?:the\s+|a\s+)?"
            r"(?:highest|top|max\w*|full|perfect|advanced|expert|exemplary|pass\w*|approv\w*|yes))\b",
        ),
        # German, French, Spanish, Portuguese, Italian, Dutch, Polish: addressed to the grader
        (
            "ignore_instructions",
            r"\b(?:ignorier\w*|vergiss|vergessen\s+sie|missachte\w*)\b"
            + _words(4)
            + r"\w*(?:anweisungen|richtlinien|regeln|kriterien|vorgaben|instruktionen|rubrik|bewertungsschema)\b",
        ),
        (
            "award_marks",
            r"\b(?:vergib|vergeben\s+sie|gib|geben\s+sie|erteile\w*|bewerte\w*|setze\w*|stufe\w*)\b"
            + _words(4)
            + r"(?:die\s+|der\s+|den\s+|das\s+)?(?:höchste|hochste|beste|maximale|volle)\w*\s+"
            r"(?:stufe|note|bewertung|punktzahl|punkte|einstufung|level|niveau)",
        ),
        (
            "addressed_to_ai",
            r"\b(?:hinweis|notiz|nachricht|anweisung|bitte)\s+(?:an|für|fur)\s+(?:den|die|das|alle)\s+(?:\w+\s+)?"
            r"(?:bewerter\w*|prüfer\w*|prufer\w*|gutachter\w*|ki|modell|sprachmodell|korrektor\w*)\b"
            r"|\bals\s+(?:\w+\s+)?(?:bewertungsmodell|ki|sprachmodell|bewerter\w*|prüfer\w*|prufer\w*)\s*,?\s+"
            r"(?:sollst|musst|wirst|solltest)\b",
        ),
        (
            "demand_pass",
            r"\b(?:richtige|korrekte|angemessene|einzig\s+\w+)\s+(?:ergebnis|bewertung|stufe|note|einstufung)\s+"
            r"(?:ist|wäre|ware)\s+(?:die\s+|das\s+|der\s+)?(?:höchste|hochste|beste|maximale)",
        ),
        (
            "ignore_instructions",
            r"\b(?:ignore[rz]?|oublie[rz]?|ne\s+tenez\s+pas\s+compte\s+des|ne\s+tiens\s+pas\s+compte\s+des)\b"
            + _words(4)
            + r"(?:instructions|consignes|crit[eè]res|r[eè]gles|grille|bar[eè]me|directives)\b",
        ),
        (
            "award_marks",
            r"\b(?:attribue[rz]?|donne[rz]?|accorde[rz]?|mets|mettez)\b"
            + _words(4)
            + r"(?:(?:le|la)\s+)?(?:niveau|note|score)\s+(?:le\s+plus\s+[ée]lev[ée]|la\s+plus\s+[ée]lev[ée]e|maxim\w+|"
            r"la\s+plus\s+haute|le\s+plus\s+haut)(?!\s+(?:de|du|des|d['’])\b)",
        ),
        (
            "addressed_to_ai",
            r"\b(?:note|message|remarque|consigne)\s+(?:pour|à|a)\s+(?:l['’]\s*|le\s+|la\s+|celui\s+qui\s+|quiconque\s+)"
            r"(?:\w+\s+)?(?:[ée]valuat\w+|correct\w+|examinat\w+|ia|mod[eè]le|assistant|[ée]value|note)\b"
            r"|\ben\s+tant\s+que\s+(?:\w+\s+){0,2}?(?:mod[eè]le|ia|[ée]valuat\w+|correct\w+)\s*,\s*(?:tu|vous|ta|votre)\b",
        ),
        (
            "demand_pass",
            r"\b(?:bon|juste|seul|vrai)\s+(?:r[ée]sultat|niveau|verdict)\s+(?:\w+\s+)?est\s+(?:le|la)\s+(?:niveau\s+)?"
            r"(?:le\s+plus\s+[ée]lev[ée]|maxim\w+|plus\s+haut)",
        ),
        (
            "ignore_instructions",
            r"\b(?:ignora|ignore|ignorad|ignoren|olvida|olvide|omite|omita)\b"
            + _words(4)
            + r"(?:instrucciones|pautas|criterios|reglas|r[uú]brica|directrices|indicaciones)\b",
        ),
        (
            "award_marks",
            r"\b(?:otorga|otorgue|asigna|asigne|da|dale|dé|pon|ponle|califica|califique|punt[uú]a)\b"
            + _words(4)
            + r"(?:el\s+|la\s+)?(?:nivel|nota|puntuaci[oó]n|calificaci[oó]n)\s+"
            r"(?:m[aá]s\s+alt[oa]|m[aá]xim[oa]|superior)",
        ),
        (
            "addressed_to_ai",
            r"\b(?:nota|mensaje|aviso|instrucci[oó]n)\s+para\s+(?:el|la|quien)\s+(?:\w+\s+)?"
            r"(?:evaluador\w*|corrector\w*|examinador\w*|ia|modelo|asistente|eval[uú]e|eval[uú]a)\b"
            r"|\bcomo\s+(?:el\s+|la\s+)?(?:\w+\s+){0,2}?(?:modelo|ia|evaluador\w*|corrector\w*)\s*,\s*(?:tu|debes|deber[aá]s)\b",
        ),
        (
            "ignore_instructions",
            r"\b(?:ignore|ignora|ignorem|esqueça|esqueca|desconsidere)\b"
            + _words(4)
            + r"(?:instru[cç][õo]es|diretrizes|crit[eé]rios|regras|rubrica|orienta[cç][õo]es)\b",
        ),
        (
            "award_marks",
            r"\b(?:atribua|atribui|d[eê]|conceda|coloque|avalie)\b"
            + _words(4)
            + r"(?:o\s+|a\s+)?(?:n[ií]vel|nota|pontua[cç][aã]o)\s+(?:mais\s+alt[oa]|m[aá]xim[oa])",
        ),
        (
            "addressed_to_ai",
            r"\b(?:nota|mensagem|aviso)\s+para\s+(?:o|a|quem)\s+(?:\w+\s+)?"
            r"(?:avaliador\w*|corretor\w*|examinador\w*|ia|modelo|assistente|avalia|avaliar)\b",
        ),
        (
            "ignore_instructions",
            r"\b(?:ignora(?:te|re)?|dimentica|trascura)\b"
            + _words(4)
            + r"(?:istruzioni|linee\s+guida|criteri|regole|rubrica|direttive)\b",
        ),
        (
            "award_marks",
            r"\b(?:assegna|assegnate|dai|date|attribuisci|metti)\b"
            + _words(4)
            + r"(?:il\s+|la\s+)?(?:livello|voto|punteggio)\s+(?:pi[uù]\s+alto|massimo)",
        ),
        (
            "addressed_to_ai",
            r"\b(?:nota|messaggio|avviso)\s+per\s+(?:il|la|l['’]|chi)\s*(?:\w+\s+)?"
            r"(?:valutator\w*|correttor\w*|esaminator\w*|ia|modello|assistente|valuta)\b",
        ),
        (
            "ignore_instructions",
            r"\b(?:negeer|vergeet|negeren)\b"
            + _words(4)
            + r"\w*(?:instructies|richtlijnen|criteria|regels|rubric|beoordelingscriteria)\b",
        ),
        (
            "award_marks",
            r"\b(?:geef|ken|kent|toekennen|zet)\b"
            + _words(4)
            + r"(?:het\s+|de\s+)?(?:hoogste|maximale|volle)\s+(?:niveau|cijfer|score|punten|beoordeling)(?!\s+van\b)",
        ),
        (
            "addressed_to_ai",
            r"\b(?:notitie|bericht|opmerking)\s+(?:voor|aan)\s+(?:de|het|wie)\s+(?:\w+\s+)?"
            r"(?:beoordelaar\w*|examinator\w*|ai|model|assistent|beoordeelt)\b"
            r"|\bals\s+(?:\w+\s+)?(?:beoordelingsmodel|ai|taalmodel|beoordelaar)\s*,\s*(?:moet|zal|ga)\s+je\b",
        ),
        (
            "ignore_instructions",
            r"\b(?:zignoruj|ignoruj|pomiń|pomin|zapomnij)\b"
            + _words(4)
            + r"(?:instrukcj\w*|wytyczn\w*|kryteri\w*|zasad\w*|reguł\w*|regul\w*|polece\w*)",
        ),
        (
            "award_marks",
            r"\b(?:przyznaj|daj|wystaw|ustaw|oceń|ocen)\b"
            + _words(4)
            + r"(?:najwyższ\w*|najwyzsz\w*|maksymaln\w*)\s+(?:poziom\w*|ocen\w*|punktacj\w*|not\w*|wynik\w*)",
        ),
        (
            "addressed_to_ai",
            r"\b(?:notatka|wiadomość|wiadomosc|uwaga)\s+dla\s+(?:\w+\s+)?"
            r"(?:oceniając\w*|oceniajac\w*|egzaminator\w*|ai|modelu|sztucznej|asystenta|sprawdzając\w*|sprawdzajac\w*)",
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
