"""PERSON and ADDRESS in Chinese and English (hand-written sentences, not evaluation data)."""

from __future__ import annotations

import pytest

from piguard.discover.analyzer import Analyzer

from .helpers import found


@pytest.fixture(scope="module")
def nlp() -> Analyzer:
    return Analyzer(entities=["PERSON", "ADDRESS"])


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("患者周建华因病去世。", "周建华"),
        ("家属：欧阳明辉先生", "欧阳明辉"),
        ("联系人司马光，电话见下", "司马光"),
        ("美国总统克林顿会见了来宾。", "克林顿"),
        ("约翰·史密斯来到上海。", "约翰·史密斯"),
        ("陈光明和赵春雷出席了会议。", "赵春雷"),
    ],
)
def test_chinese_names(nlp: Analyzer, text: str, name: str) -> None:
    assert ("PERSON", name) in found(nlp, text)


def test_cue_word_in_explanation(nlp: Analyzer) -> None:
    result = [f for f in nlp.analyze("患者周建华因病去世。") if f.entity == "PERSON"]
    assert "context 患者" in result[0].explanation
    assert "surname dictionary" in result[0].explanation


@pytest.mark.parametrize(
    "text",
    ["他们明白这个道理后，文明程度提高。", "阿根廷队赢得了比赛。", "会议隆重召开，表示热烈的祝贺。"],
)
def test_common_words_and_places_are_not_names(nlp: Analyzer, text: str) -> None:
    assert [e for e, _ in found(nlp, text) if e == "PERSON"] == []


def test_bare_surname_before_a_title_is_a_weak_person_reference(nlp: Analyzer) -> None:
    # 张老师 refers to one person; the surname is reported (MSRA's convention), weakly.
    result = [f for f in nlp.analyze("张老师布置了作业。") if f.entity == "PERSON"]
    assert [(f.start, f.end) for f in result] == [(0, 1)]
    assert result[0].score == 0.6
    assert "surname + title 老师" in result[0].explanation


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("应克林顿总统邀请，江泽民主席访问美国。", ["克林顿", "江泽民"]),
        ("出席会议的有张万年、钱其琛、王兆国。", ["张万年", "钱其琛", "王兆国"]),
        ("名单：丁关根田纪云李岚清", ["丁关根", "田纪云", "李岚清"]),
    ],
)
def test_tagger_spans_are_cleaned_and_split(nlp: Analyzer, text: str, names: list[str]) -> None:
    assert [v for e, v in found(nlp, text) if e == "PERSON"] == names


def test_chinese_address_with_gazetteer_and_grammar(nlp: Analyzer) -> None:
    text = "家住北京市海淀区中关村大街27号3栋2单元501室，"
    result = [f for f in nlp.analyze(text) if f.entity == "ADDRESS"]
    assert [text[f.start : f.end] for f in result] == ["北京市海淀区中关村大街27号3栋2单元501室"]
    assert "gazetteer GB/T 2260" in result[0].explanation
    assert result[0].score >= 0.9


def test_address_without_admin_prefix_and_leading_words_trimmed(nlp: Analyzer) -> None:
    assert ("ADDRESS", "幸福小区3栋501室") in found(nlp, "他住在幸福小区3栋501室。")
    assert ("ADDRESS", "人民路88号") in found(nlp, "我们在人民路88号见面")


def test_road_name_is_not_a_person(nlp: Analyzer) -> None:
    assert [e for e, _ in found(nlp, "地址：中山路100号") if e == "PERSON"] == []


def test_admin_chain(nlp: Analyzer) -> None:
    assert ("ADDRESS", "浙江省杭州市西湖区") in found(nlp, "户籍地浙江省杭州市西湖区。")


def test_english_person_and_address(nlp: Analyzer) -> None:
    text = "Patient Mary Johnson lives at 42 Oak Street, Springfield, IL 62704."
    result = found(nlp, text)
    assert ("PERSON", "Mary Johnson") in result
    assert ("ADDRESS", "42 Oak Street, Springfield, IL 62704") in result
    assert ("PERSON", "Smith") in found(nlp, "Seen by Dr. Smith today")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Follow up with Sigrid Nyström in a couple of months.", "Sigrid Nyström"),  # not "Sigrid Nystr"
        ("My name is Ruth R Montez.", "Ruth R Montez"),  # a middle initial without its full stop
        ("What's your name? Jildau S Bouts", "Jildau S Bouts"),
        ("Regards,\nTomasz Wiśniewski", "Tomasz Wiśniewski"),
        ("please correct it to Mr. Richard McCray?", "Richard McCray"),
        ("I'd like to join accounts with ms. Marcela", "Marcela"),
        ("my grandfather was called Kevin Veitonen II, a sailor", "Kevin Veitonen II"),
        ("Name:Aleksander Nowak", "Aleksander Nowak"),
        ("Dear Mr. O'Brien,", "O'Brien"),
        ("Bryan Maclean's killers were sentenced", "Bryan Maclean"),  # not the possessive
        ("The nurse said Margaret had left early.", "Margaret"),  # a lone first name spoken of
        ("Thanks to Robert, the forms were filed.", "Robert"),
        ("Seen by Jonah Hill and Lois Lane", "Jonah Hill"),  # surnames that are also street types
        # Chinese names in pinyin, either order, the surname also in capitals; domain cues.
        ("Deceased: Wang Xiuying, next of kin Zhang Jianguo (son)", "Zhang Jianguo"),
        ("Patient LIU Guilan was admitted", "LIU Guilan"),
        ("Xiuying Wang died at home", "Xiuying Wang"),
        ("Zhou Enlai and Deng Xiaoping", "Deng Xiaoping"),
    ],
)
def test_english_names_in_latin_letters_and_after_cues(nlp: Analyzer, text: str, name: str) -> None:
    assert ("PERSON", name) in found(nlp, text)


@pytest.mark.parametrize(
    "text",
    ["I am Happy to help", "Hi Team, thanks for coming", "return SignedCheckpoint(note)", "Dear Sir,",
     "Call me Monday", "Laine\nPhone: 083 564 9312", "We flew to France last year",
     "Margaret Street is closed", "Robert", "Tang Dynasty poems", "the Han River", "Wang Street"],
)
def test_english_name_cues_stay_silent_without_a_name(nlp: Analyzer, text: str) -> None:
    assert [value for entity, value in found(nlp, text) if entity == "PERSON"] == []


def test_identifier_only_analyzer_does_not_build_nlp_recognizers() -> None:
    from piguard.discover.recognizers.registry import build_recognizers

    names = {r.name for r in build_recognizers({"CN_MOBILE", "EMAIL"})}
    assert names == {"cn_mobile", "email"}
    assert {"cn_person", "cn_address"} <= {r.name for r in build_recognizers({"PERSON", "ADDRESS"})}


def test_validate_value_names_and_addresses(nlp: Analyzer) -> None:
    assert nlp.validate_value("张三") == [("PERSON", 0.7)]
    assert nlp.validate_value("欧阳娜娜")[0][0] == "PERSON"
    assert nlp.validate_value("明白") == []  # common word jieba's dictionary tags as a name
    assert nlp.validate_value("阿根廷") == []
    assert nlp.validate_value("上海市浦东新区世纪大道100号")[0][0] == "ADDRESS"
    assert nlp.validate_value("John Smith") == [("PERSON", 0.7)]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("583 Magrethevej 298, Qasigiannguit", "Magrethevej 298"),  # street type as a suffix
        ("Asselsestraat 7, 1021 Amsterdam", "Asselsestraat 7"),
        ("Billing address: Via Franscini 71, Tujetsch", "Via Franscini 71"),  # type word first
        ("Rue de la Gare 5", "Rue de la Gare 5"),
        ("31401 ul. Słowicza 10 Apt. 360", "ul. Słowicza 10"),
    ],
)
def test_continental_european_street_addresses(nlp: Analyzer, text: str, address: str) -> None:
    assert ("ADDRESS", address) in found(nlp, text)


@pytest.mark.parametrize("text", ["Section 5 of the Act", "Room 5", "Version 2", "Tuesday 5 May"])
def test_a_number_after_a_word_is_not_an_address(nlp: Analyzer, text: str) -> None:
    assert [value for entity, value in found(nlp, text) if entity == "ADDRESS"] == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # The road name must not start inside the district's name (朝阳区).
        ("北京市朝阳区建国门外大街1号国贸大厦A座", "北京市朝阳区建国门外大街1号国贸大厦A座"),
        ("家住闵行区七宝镇漕宝路1555弄12号301室", "闵行区七宝镇漕宝路1555弄12号301室"),  # lane, then house
        ("户籍地址：上海市徐汇区漕溪北路", "上海市徐汇区漕溪北路"),  # a road without a number
        ("联系地址为闵行区莘庄镇", "闵行区莘庄镇"),  # one level and a town, with an address word
        ("住在南京市玄武区中山路1号", "南京市玄武区中山路1号"),  # 中山 and 南京 stay road and city
        ("松江区九亭镇沪亭北路99弄1-3号", "松江区九亭镇沪亭北路99弄1-3号"),
        ("闵行区虹桥镇吴中路1100号B1层", "闵行区虹桥镇吴中路1100号B1层"),  # a basement floor
    ],
)
def test_chinese_address_parts(nlp: Analyzer, text: str, address: str) -> None:
    assert ("ADDRESS", address) in found(nlp, text)


@pytest.mark.parametrize("text", ["他去了上海市", "闵行区中心医院", "南京路步行街"])
def test_a_place_name_alone_is_not_an_address(nlp: Analyzer, text: str) -> None:
    assert [value for entity, value in found(nlp, text) if entity == "ADDRESS"] == []
