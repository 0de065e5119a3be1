"""Identity numbers: validation says which check failed; masks hide the middle."""

from __future__ import annotations

import pytest

from recordkeep.errors import InputError, InvalidCreditCode, InvalidIdNumber
from recordkeep.ids import (
    looks_like_credit_code,
    looks_like_id_number,
    mask_credit_code,
    mask_id_number,
    validate_credit_code,
    validate_id_number,
)

VALID_ID = "11010519491231002X"
VALID_CODE = "91512081MA62K0260E"
# ASCII digits and capitals -> their full-width forms, as an IME types them
FULL_WIDTH = {c: c + 0xFEE0 for c in range(ord("0"), ord("Z") + 1) if chr(c).isalnum()}


def _id_error(value: str) -> InvalidIdNumber:
    with pytest.raises(InvalidIdNumber) as caught:
        validate_id_number(value)
    assert caught.value.code == "RK410"
    assert isinstance(caught.value, InputError)
    return caught.value


def _code_error(value: str) -> InvalidCreditCode:
    with pytest.raises(InvalidCreditCode) as caught:
        validate_credit_code(value)
    assert caught.value.code == "RK411"
    assert isinstance(caught.value, InputError)
    return caught.value


# 居民身份证号 ------------------------------------------------------------------

def test_a_valid_identity_number_is_returned_unchanged():
    assert validate_id_number(VALID_ID) == VALID_ID


def test_a_lower_case_x_full_width_digits_and_spaces_are_normalised():
    assert validate_id_number("11010519491231002x") == VALID_ID
    assert validate_id_number(" 110105 19491231 002X ") == VALID_ID
    assert validate_id_number(VALID_ID.translate(FULL_WIDTH)) == VALID_ID
    assert validate_id_number("110105-19491231-002X") == VALID_ID


def test_a_changed_check_digit_fails_the_check_digit_check():
    error = _id_error("110105194912310021")
    assert error.check == "check_digit"
    assert "check digit" in error.message


def test_a_short_number_fails_the_length_check_and_says_how_long_it_was():
    error = _id_error("11010519491231002")
    assert error.check == "length"
    assert "length" in error.message and "got 17" in error.message


def test_a_first_generation_15_digit_number_is_refused_with_a_pointer_to_the_18_digit_one():
    error = _id_error("110105491231002")
    assert error.check == "length"
    assert "15-digit" in error.message


def test_a_letter_among_the_digits_fails_the_character_set_check_and_names_its_position():
    error = _id_error("11O10519491231002X")  # letter O typed for zero
    assert error.check == "charset"
    assert "character set" in error.message and "character 3" in error.message


def test_x_anywhere_but_last_fails_the_character_set_check():
    error = _id_error("1101051949123100X2")
    assert error.check == "charset"
    assert "character 17" in error.message


def test_a_last_character_not_digit_or_x_fails_the_character_set_not_the_check_digit():
    error = _id_error("11010519491231002Y")
    assert error.check == "charset"
    assert "character set" in error.message and "check digit" not in error.message


def test_an_impossible_birth_date_fails_the_birth_date_check_even_with_a_correct_check_digit():
    error = _id_error("110105194913310021")  # month 13; check digit right for these digits
    assert error.check == "birth_date"
    assert "birth date" in error.message


def test_february_29_is_a_birth_date_only_in_leap_years():
    assert validate_id_number("110105194802290021") == "110105194802290021"
    assert _id_error("110105194902290029").check == "birth_date"


def test_a_birth_date_in_the_future_fails_the_birth_date_check():
    error = _id_error("110105209901010012")
    assert error.check == "birth_date"
    assert "future" in error.message


def test_an_unknown_region_fails_the_region_check():
    error = _id_error("999999199001010016")
    assert error.check == "region"
    assert "region" in error.message


def test_an_unknown_county_in_a_known_province_fails_the_region_check_instead_of_crashing():
    # stdnum.cn.ric.validate raises a bare KeyError('county') for this one
    error = _id_error("119999199001010012")
    assert error.check == "region"


def test_a_region_code_created_after_the_birth_year_is_accepted():
    # 重庆 (500101) was created in 1997; people born there earlier carry its code
    assert validate_id_number("50010119850101001X") == "50010119850101001X"
    # 通州区 (110112) dates from 1997, 海南 (46) from 1988
    assert validate_id_number("110112199001010014") == "110112199001010014"
    assert validate_id_number("460005198501010017") == "460005198501010017"


def test_identity_number_errors_never_repeat_the_number():
    for bad in ("110105194912310021", "110105194913310021", "119999199001010012"):
        error = _id_error(bad)
        assert bad not in str(error)
        assert bad[6:14] not in str(error)  # nor the birth date


# 统一社会信用代码 ----------------------------------------------------------------

def test_a_valid_credit_code_is_returned_unchanged():
    assert validate_credit_code(VALID_CODE) == VALID_CODE


def test_a_credit_code_in_lower_case_with_separators_is_normalised():
    assert validate_credit_code("91512081ma62k0260e") == VALID_CODE
    assert validate_credit_code("91-512081-MA62K0260E") == VALID_CODE
    assert validate_credit_code(VALID_CODE.translate(FULL_WIDTH)) == VALID_CODE


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_each_of_the_letters_i_o_s_v_z_fails_the_character_set_check_not_the_check_digit(letter):
    code = VALID_CODE[:14] + letter + VALID_CODE[15:]
    error = _code_error(code)
    assert error.check == "charset"
    assert "character set" in error.message
    assert "check digit" not in error.message
    assert "character 15" in error.message and f"'{letter}'" in error.message


def test_a_letter_in_the_region_part_fails_the_character_set_check():
    error = _code_error("9151208AMA62K0260E")
    assert error.check == "charset"
    assert "character 8" in error.message and "region" in error.message


def test_punctuation_in_a_credit_code_fails_the_character_set_check():
    error = _code_error("91512081MA62K0260*")
    assert error.check == "charset"


def test_a_changed_check_character_fails_the_check_digit_check():
    error = _code_error("91512081MA62K0260F")
    assert error.check == "check_digit"
    assert "check digit" in error.message


def test_a_changed_body_character_fails_the_check_digit_check():
    error = _code_error("91512081MA62K0261E")
    assert error.check == "check_digit"


def test_a_credit_code_of_the_wrong_length_fails_the_length_check():
    error = _code_error("91512081MA62K0260")
    assert error.check == "length"
    assert "length" in error.message and "got 17" in error.message


def test_letters_in_the_authority_and_type_positions_are_accepted_as_gb_32100_allows():
    # N = 农业农村 registering authority (农村集体经济组织); stdnum's own
    # uscc.validate refuses any letter there.  Constructed code, correct check digit.
    assert validate_credit_code("N2110105MA01ABCDET") == "N2110105MA01ABCDET"
    assert _code_error("N2110105MA01ABCDEU").check == "check_digit"


def test_credit_code_errors_never_repeat_the_code():
    error = _code_error("91512081MA62K0260F")
    assert "91512081MA62K0260F" not in str(error)


# masks and shapes -----------------------------------------------------------

def test_an_identity_number_is_masked_to_its_first_6_and_last_4_characters():
    assert mask_id_number(VALID_ID) == "110105********002X"
    assert mask_id_number("11010519491231002x") == "110105********002X"


def test_a_credit_code_is_masked_to_its_first_8_and_last_2_characters():
    assert mask_credit_code(VALID_CODE) == "91512081********0E"


def test_a_value_too_short_to_mask_properly_is_all_stars():
    assert mask_id_number("110105491231002") == "*" * 15
    assert mask_credit_code("9151") == "****"
    assert mask_id_number("") == ""


def test_identity_number_shapes_are_recognised_without_validating():
    assert looks_like_id_number(VALID_ID)
    assert looks_like_id_number("110105194912310021")  # bad check digit, same shape
    assert looks_like_id_number("11010519491231002x")
    assert looks_like_id_number("110105491231002")  # 15 digits: validation explains
    assert not looks_like_id_number("P12")
    assert not looks_like_id_number("张三")
    assert not looks_like_id_number(VALID_CODE)
    assert not looks_like_id_number("110105********002X")
    assert not looks_like_id_number(None)


def test_credit_code_shapes_are_recognised_without_validating():
    assert looks_like_credit_code(VALID_CODE)
    assert looks_like_credit_code("91512081MA62K0I60E")  # forbidden letter: validation explains
    assert looks_like_credit_code("91512081ma62k0260e")
    assert not looks_like_credit_code("P3")
    assert not looks_like_credit_code("坡城市某某建筑工程有限公司")
    assert not looks_like_credit_code("91512081********0E")


def test_an_18_character_identity_number_also_has_the_shape_of_a_credit_code():
    # the party resolver must try both; validation tells them apart
    assert looks_like_id_number("110105194912310021")
    assert looks_like_credit_code("110105194912310021")
    assert looks_like_credit_code(VALID_ID)
