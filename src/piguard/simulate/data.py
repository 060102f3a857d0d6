"""Small shipped reference tables the synthetic city is drawn from (sources in docs/simulator.md).

Nothing here is data about a real person: districts and their codes are public administrative
divisions, surname shares are published aggregate statistics, and causes of death are ICD-10
categories with Shanghai-like shares. Names, compounds and numbers are composed at random.
"""

from __future__ import annotations

# Shanghai's 16 districts: GB/T 2260 adcode, name, share of registered population (approximate,
# from the 2020 census district totals, rounded), centroid (lat, lon).
DISTRICTS: tuple[tuple[str, str, float, float, float], ...] = (
    ("310101", "黄浦区", 0.027, 31.231, 121.484),
    ("310104", "徐汇区", 0.045, 31.188, 121.437),
    ("310105", "长宁区", 0.028, 31.220, 121.424),
    ("310106", "静安区", 0.039, 31.229, 121.448),
    ("310107", "普陀区", 0.050, 31.249, 121.396),
    ("310109", "虹口区", 0.030, 31.264, 121.505),
    ("310110", "杨浦区", 0.050, 31.259, 121.526),
    ("310112", "闵行区", 0.107, 31.113, 121.382),
    ("310113", "宝山区", 0.090, 31.405, 121.490),
    ("310114", "嘉定区", 0.074, 31.375, 121.265),
    ("310115", "浦东新区", 0.228, 31.221, 121.544),
    ("310116", "金山区", 0.033, 30.741, 121.342),
    ("310117", "松江区", 0.077, 31.032, 121.228),
    ("310118", "青浦区", 0.051, 31.151, 121.124),
    ("310120", "奉贤区", 0.046, 30.918, 121.474),
    ("310151", "崇明区", 0.025, 31.623, 121.397),
)
# Suburban districts are younger than many of their residents. A resident ID's area code must
# have existed in the holder's birth year to be valid in form (python-stdnum checks this), so
# older people carry the predecessor county's code: (district, first year, 1982-era county code
# and the year it started, pre-1982 county code). From GB/T 2260 revisions.
LEGACY_AREAS: dict[str, tuple[int, str, int, str]] = {
    "310112": (1981, "310201", 1982, "310201"),
    "310113": (1988, "310223", 1982, "310203"),
    "310114": (1992, "310222", 1982, "310202"),
    "310115": (1992, "310224", 1982, "310204"),
    "310116": (1997, "310228", 1982, "310208"),
    "310117": (1998, "310227", 1982, "310207"),
    "310118": (1999, "310229", 1982, "310209"),
    "310120": (2001, "310226", 1982, "310206"),
    "310151": (2016, "310230", 1982, "310210"),
}

# Which districts each scale uses (demo starts with Minhang: the broker scenario is named after it).
SCALE_DISTRICTS = {
    "demo": ("310112", "310104", "310115"),
    "small": ("310112", "310104", "310115", "310106", "310110", "310117"),
    "city": tuple(row[0] for row in DISTRICTS),
}

# The 40 most common surnames with their share of the population (%), after the Ministry of
# Public Security's 2020 national surname report (published ranking; shares rounded). The rest
# of the mass is spread over the remaining list with a small uniform share.
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 7.25), ("李", 7.19), ("张", 6.84), ("刘", 5.38), ("陈", 4.53), ("杨", 3.08),
    ("黄", 2.25), ("赵", 2.23), ("吴", 2.05), ("周", 1.91), ("徐", 1.72), ("孙", 1.54),
    ("马", 1.46), ("朱", 1.39), ("胡", 1.31), ("郭", 1.16), ("何", 1.13), ("林", 1.09),
    ("罗", 1.06), ("高", 1.06), ("郑", 0.86), ("梁", 0.84), ("谢", 0.81), ("宋", 0.70),
    ("唐", 0.69), ("许", 0.66), ("韩", 0.62), ("冯", 0.61), ("邓", 0.60), ("曹", 0.59),
    ("彭", 0.56), ("曾", 0.55), ("肖", 0.54), ("田", 0.52), ("董", 0.51), ("袁", 0.50),
    ("潘", 0.50), ("于", 0.49), ("蒋", 0.48), ("蔡", 0.47), ("余", 0.46), ("杜", 0.44),
    ("叶", 0.44), ("程", 0.42), ("苏", 0.40), ("魏", 0.40), ("吕", 0.39), ("丁", 0.38),
    ("任", 0.37), ("沈", 0.36), ("姚", 0.34), ("卢", 0.33), ("姜", 0.32), ("崔", 0.31),
    ("钟", 0.30), ("谭", 0.30), ("陆", 0.29), ("汪", 0.29), ("范", 0.29), ("金", 0.28),
)
GIVEN_CHARS_MALE = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆建国志宏德文"
GIVEN_CHARS_FEMALE = "芳娜敏静丽艳娟霞秀玲桂英萍红燕琳颖慧婷雪梅兰凤洁琴云莉倩"
COMPOUND_FIRST = "春秋金银华锦绿翠东西南北新康乐和平安宁泰富美丽嘉海天"
COMPOUND_SECOND = "苑园庭轩居湾城府邸坊"
COMPOUND_SUFFIX = ("小区", "新村", "花园", "公寓", "")
STREETS = (
    "人民路", "中山路", "淮海路", "虹桥路", "漕宝路", "沪闵路", "莘庄路", "龙华路", "张杨路",
    "世纪大道", "江川路", "都市路",
)

# Ethnicity in Shanghai's resident population (2020 census: Han about 98.8%).
ETHNICITIES: tuple[tuple[str, float], ...] = (
    ("汉族", 0.988), ("回族", 0.004), ("满族", 0.002), ("蒙古族", 0.001), ("土家族", 0.002),
    ("其他", 0.003),
)
MARITAL: tuple[tuple[str, float], ...] = (
    ("已婚", 0.56), ("丧偶", 0.33), ("离婚", 0.04), ("未婚", 0.07),
)
OCCUPATIONS = ("离退休人员", "离退休人员", "离退休人员", "工人", "专业技术人员", "商业服务业人员",
               "农民", "无业人员", "办事人员", "学生")
RELATIONSHIPS = ("配偶", "儿子", "女儿", "儿媳", "女婿", "孙子", "孙女", "兄弟", "姐妹")

# Mobile number segments allocated to China Mobile, China Unicom and China Telecom (MIIT
# numbering plan); used so numbers are valid in form.
MOBILE_PREFIXES = (
    "134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "157", "158", "159",
    "182", "183", "187", "188", "198", "130", "131", "132", "155", "156", "166", "185", "186",
    "133", "153", "173", "177", "180", "181", "189", "199",
)

# Causes of death: (share, manner, Part I lines from (a) immediate to the underlying cause,
# each (ICD-10 code, Chinese text, onset interval), Part II contributing conditions).
# Shares follow the shape of Shanghai's published cause-of-death structure (circulatory
# ~40%, neoplasms ~30%, respiratory ~10%, injuries ~4%), not exact figures.
CauseLine = tuple[str, str, str]
CAUSES: tuple[tuple[float, str, tuple[CauseLine, ...], tuple[CauseLine, ...]], ...] = (
    (0.10, "natural", (("R57.0", "心源性休克", "2小时"), ("I21.9", "急性心肌梗死", "1天"),
                       ("I25.1", "动脉粥样硬化性心脏病", "10年")), (("I10", "高血压", "15年"),)),
    (0.09, "natural", (("I63.9", "脑梗死", "5天"), ("I10", "高血压", "20年")),
     (("E11.9", "2型糖尿病", "10年"),)),
    (0.07, "natural", (("I61.9", "脑出血", "2天"), ("I10", "高血压", "12年")), ()),
    (0.08, "natural", (("I50.9", "心力衰竭", "3月"), ("I25.1", "动脉粥样硬化性心脏病", "8年")),
     (("N18.5", "慢性肾脏病5期", "2年"),)),
    (0.06, "natural", (("I46.9", "心脏骤停", "1小时"), ("I11.9", "高血压性心脏病", "6年")), ()),
    (0.09, "natural", (("J96.0", "急性呼吸衰竭", "3天"), ("C34.9", "肺恶性肿瘤", "1年")), ()),
    (0.06, "natural", (("C16.9", "胃恶性肿瘤", "2年"),), (("E11.9", "2型糖尿病", "6年"),)),
    (0.05, "natural", (("K72.9", "肝衰竭", "1周"), ("C22.0", "肝细胞癌", "1年"),
                       ("B18.1", "慢性乙型病毒性肝炎", "20年")), ()),
    (0.05, "natural", (("C18.9", "结肠恶性肿瘤", "2年"),), ()),
    (0.04, "natural", (("C25.9", "胰腺恶性肿瘤", "6月"),), ()),
    (0.05, "natural", (("J96.0", "急性呼吸衰竭", "2天"), ("J44.1", "慢性阻塞性肺病急性加重", "2周"),
                       ("J44.9", "慢性阻塞性肺病", "15年")), ()),
    (0.05, "natural", (("A41.9", "脓毒症", "4天"), ("J18.9", "肺炎", "1周")),
     (("G30.9", "阿尔茨海默病", "6年"),)),
    (0.04, "natural", (("E11.9", "2型糖尿病", "18年"),), (("I10", "高血压", "20年"),)),
    (0.03, "natural", (("N18.5", "慢性肾脏病5期", "4年"), ("E11.2", "2型糖尿病伴肾并发症", "12年")), ()),
    (0.03, "natural", (("G30.9", "阿尔茨海默病", "7年"),), ()),
    (0.02, "natural", (("K74.6", "肝硬化", "5年"),), ()),
    (0.02, "accident", (("S06.9", "颅内损伤", "1天"), ("W19", "跌倒", "1天")),
     (("M81.9", "骨质疏松", "10年"),)),
    (0.01, "accident", (("S06.9", "颅内损伤", "1小时"), ("V89.2", "机动车交通事故", "1小时")), ()),
    (0.01, "suicide", (("T71", "窒息", "1小时"), ("X70", "故意自缢", "1小时")), ()),
    (0.003, "homicide", (("S21.9", "胸部开放性伤口", "1小时"), ("X99", "利器攻击", "1小时")), ()),
    (0.007, "pending", (("R99", "其他原因不明的死亡", "不详"),), ()),
)

# Where deaths happen (shares; Shanghai has a high share of hospital deaths; see docs).
PLACES = (("hospital", 0.58), ("home", 0.33), ("care_home", 0.06), ("en_route", 0.03))

CHIEF_COMPLAINTS = ("胸痛", "呼吸困难", "意识丧失", "跌倒", "腹痛", "发热", "交通事故", "抽搐", "心跳骤停",
                    "头晕", "出血", "中毒")
HAZARDS = ("无", "无", "无", "楼道狭窄", "无电梯", "犬只", "家属情绪激动", "传染病疑似")
ACCESS_NOTES = ("无", "无", "门禁需联系物业", "老式小区无电梯", "请从北门进入", "楼下有人接应")
