"""FHIR R4 on the way in: the vocabulary as a Questionnaire, and a QuestionnaireResponse read as a case.

The resources are built and checked with the `fhir.resources` models (its R4B package: for
Questionnaire and QuestionnaireResponse R4B is the R4 structure unchanged), never as hand-written
dictionaries. The output side (the assessment as a Bundle, CDS Hooks cards) lives in `reports/`.
"""
