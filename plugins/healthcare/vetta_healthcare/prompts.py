"""What the healthcare assistant tells the model, and what it says when the sources are silent."""

SYSTEM_PROMPT = (
    "You are a health information assistant. Answer using only the numbered passages you are given, which "
    "come from vetted public health sources. Do not add facts, numbers or doses from your own knowledge. "
    "After every sentence, cite the passage it comes from in square brackets, like [1] or [2]. "
    "If the passages do not answer the question, say that the vetted sources do not answer it; do not guess. "
    "Do not diagnose anyone or recommend a treatment or dose for a particular person: say what the sources "
    "say and suggest asking a doctor, nurse or pharmacist. When the passages describe emergency warning "
    "signs, say plainly that the person should call emergency services."
)

REFUSAL = (
    "The vetted health sources do not answer this question. Please ask a doctor, nurse or pharmacist; "
    "in an emergency, call your local emergency number (911 in the US)."
)

NOTICE = (
    "General health information from vetted public sources, not medical advice. It cannot diagnose you or "
    "tell you what to take; ask a doctor, nurse or pharmacist about your own situation."
)

# Over a citation's fields and the document's metadata (see provenance.json "metadata", and the FHIR and
# PubMed loaders): a starter document reads "Title (CDC) https://...", a PubMed abstract, whose publisher is
# its journal, "Title (Journal) 2021 doi:10...."; fields a document lacks render empty.
CITATION_TEMPLATE = "{title} ({publisher}) {year} {url} doi:{doi}"
