"""Headers, sheet titles and value labels of result tables, in Chinese and English.

Every analysis returns tables with plain English column names and codes (for GeoPackage
layers and for code). :func:`localise` gives them the headers of the report spreadsheet:
Chinese by default, English on request. Each module's tables add their titles to
:data:`TABLE_TITLES` and their columns to :data:`HEADERS` here.

Examples
--------
>>> TABLE_TITLES["class_size_ledger"]["zh"]
'消除大班额工作台账'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from .errors import ValidationError

if TYPE_CHECKING:
    from .standards import Profile

Lang = Literal["zh", "en"]
"""The languages of every output: Chinese (the default) and English."""

TABLE_TITLES: dict[str, dict[str, str]] = {
    "access_summary": {"zh": "就学可达性汇总", "en": "Access summary"},
    "access_schools": {"zh": "学校学位与班额预测", "en": "Schools by year"},
    "access_balance": {"zh": "乡镇学位供需", "en": "Places by township"},
    "cell_reasons": {"zh": "网格未达标原因", "en": "Cells by reason"},
    "attendance": {"zh": "乡镇-学校就读矩阵", "en": "Attendance matrix"},
    "border_seats": {"zh": "跨县就读安排", "en": "Seats across county borders"},
    "parcels_check": {"zh": "储备用地核查", "en": "Reserved parcels"},
    "developments_check": {"zh": "住宅项目配套核查(三同步)", "en": "Developments (三同步)"},
    "township_reserve": {"zh": "乡镇教育用地储备", "en": "Township reserve"},
    "development_links": {"zh": "项目配套学校连线", "en": "Development links"},
    "closure_summary": {"zh": "撤并影响汇总", "en": "Closure impact"},
    "closure_transfers": {"zh": "撤并转学去向", "en": "Children moved"},
    "closure_receiving": {"zh": "撤并接收学校", "en": "Receiving schools"},
    "closure_travel_bands": {"zh": "转学学生出行时间分布", "en": "Travel time bands"},
    "closure_funding": {"zh": "撤并前后公用经费", "en": "Funding before and after"},
    "closure_staffing": {"zh": "撤并前后教师编制", "en": "Staffing before and after"},
    "closure_idle": {"zh": "闲置校舍", "en": "Idle campus"},
    "closure_moves": {"zh": "撤并转学明细(网格)", "en": "Moves by cell"},
    "closure_screening": {"zh": "小规模学校撤并筛查", "en": "Closure screening"},
    "demand_by_county": {"zh": "学龄人口预测(县)", "en": "Demand by county"},
    "demand_by_township": {"zh": "学龄人口预测(乡镇)", "en": "Demand by township"},
    "yield_model": {"zh": "新建住宅学生生成率", "en": "Development yield model"},
    "profile": {"zh": "标准依据", "en": "Standards profile"},
    "class_size_ledger": {"zh": "消除大班额工作台账", "en": "Class-size ledger"},
    "class_size_by_county": {"zh": "班额县域汇总", "en": "Class size by county"},
    "funding": {"zh": "生均公用经费", "en": "Funding by school"},
    "funding_by_county": {"zh": "公用经费县域汇总", "en": "Funding by county"},
    "staffing": {"zh": "教师配备", "en": "Staffing by school"},
    "staffing_by_county": {"zh": "教师配备及交流轮岗县域汇总", "en": "Staffing by county"},
    "site_proposals": {"zh": "新增校点选址建议", "en": "Proposed school sites"},
    "site_candidates": {"zh": "备选校址及适宜性", "en": "Candidate sites"},
    "balance_schools": {"zh": "优质均衡资源配置(学校)", "en": "Resources by school"},
    "balance_indicators": {"zh": "优质均衡资源配置(指标)", "en": "Resources by indicator"},
    "balance_counties": {"zh": "优质均衡资源配置(县域结论)", "en": "Resource verdict"},
    "phase_actions": {"zh": "分期规划行动", "en": "Phased plan actions"},
    "phase_timeline": {"zh": "分期学位与学龄儿童", "en": "Places and children by year"},
    "phase_summary": {"zh": "分期规划求解", "en": "Phased plan solve"},
    "balance_target": {"zh": "优质均衡全市目标", "en": "City balance target"},
    "canteens_by_county": {"zh": "农村学校食堂供餐", "en": "Rural canteens"},
    "resource_classrooms": {"zh": "随班就读资源教室", "en": "Resource classrooms"},
    "left_behind_by_county": {"zh": "随迁子女和留守儿童", "en": "Migrant and left-behind"},
    "school_pairs": {"zh": "城乡学校结对帮扶", "en": "Urban-rural school pairs"},
    "class_size_timetable": {"zh": "消除大班额时间表", "en": "Class-size timetable"},
    "strike_off_by_year": {"zh": "大班额销号进度", "en": "Strike-off by year"},
    "spending_per_pupil": {"zh": "教育支出及生均支出", "en": "Spending per pupil"},
    "consolidation": {"zh": "义务教育巩固率", "en": "Consolidation rate"},
    "township_dormitories": {"zh": "乡镇教师周转宿舍", "en": "Teacher dormitories"},
}
"""Title of each table of :func:`indicator_tables`, for sheet names, in Chinese and English."""

HEADERS: dict[str, tuple[str, str]] = {
    "assigned": ("已分配学生", "Assigned"),
    "unserved": ("无学位学生", "Unserved"),
    "across_border": ("跨县就读学生", "Seated across the county border"),
    "unserved_after_border": ("跨县安排后仍无学位学生", "Unserved after seats across borders"),
    "load_across_border": ("接收外县学生数", "Pupils from other counties"),
    "school_county_code": ("学校所在县(市、区)代码", "County code of the school"),
    "metres": ("出行距离(m)", "Travel distance (m)"),
    "minutes": ("出行时间(分钟)", "Travel time (minutes)"),
    "within_norm": ("在服务半径或时间标准内", "Within the norm"),
    "mean_minutes": ("平均上学时间(分钟)", "Mean travel (minutes)"),
    "share_within_norm": ("达标比例", "Share within the norm"),
    "load": ("分配学生数", "Load"),
    "utilisation": ("学位利用率", "Utilisation"),
    "over_capacity": ("超出学位", "Over capacity"),
    "spare": ("剩余学位", "Spare places"),
    "class_size": ("预计班额", "Projected class size"),
    "over_class_cap": ("超标准班额", "Over the class cap"),
    "beyond_radius": ("超出服务半径学生", "Children beyond the radius"),
    "beyond_time": ("超出时间标准学生", "Children beyond the time norm"),
    "beyond_norm": ("超出就学标准学生", "Children beyond the norm"),
    "at_over_capacity": ("就读超容量学校学生", "Children at over-full schools"),
    "at_over_class_cap": ("就读超班额学校学生", "Children at schools over the class cap"),
    "flag_radius": ("超服务半径", "Beyond radius"),
    "flag_time": ("超时间标准", "Beyond time norm"),
    "flag_unserved": ("有无学位学生", "Unserved"),
    "flag_capacity": ("学校超容量", "At over-full school"),
    "flag_class_size": ("学校超班额", "At school over class cap"),
    "flagged": ("供给不足", "Under-provided"),
    "access_2sfca": ("可达性指数(2SFCA)", "Accessibility (2SFCA)"),
    "cells": ("网格数", "Cells"),
    "nearest_school_ids": ("最近学校代码", "Nearest school ids"),
    "nearest_schools": ("最近学校", "Nearest schools"),
    "attending": ("就读学生", "Attending"),
    "parcel_id": ("地块编号", "Parcel id"),
    "development_id": ("项目编号", "Development id"),
    "planned_level": ("规划学段", "Planned level"),
    "planned_classes": ("规划班数", "Planned classes"),
    "delivery_year": ("交付年份", "Delivery year"),
    "status": ("状态", "Status"),
    "area_m2": ("用地面积(㎡)", "Area (m²)"),
    "required_m2": ("所需用地(㎡)", "Land needed (m²)"),
    "primary_seats": ("规划小学学位", "Planned primary seats"),
    "junior_seats": ("规划初中学位", "Planned junior seats"),
    "land_ok": ("用地规模达标", "Land large enough"),
    "land_reason": ("用地规模说明", "Land: reason"),
    "overlap_parcels": ("重叠地块", "Overlapping parcels"),
    "overlap_schools": ("重叠学校用地", "Overlapping school land"),
    "overlap_area_m2": ("重叠面积(㎡)", "Overlap area (m²)"),
    "overlap_ok": ("无用地重叠", "No overlap"),
    "overlap_reason": ("用地重叠说明", "Overlap: reason"),
    "primary_radius_m": ("小学服务半径(m)", "Primary service radius (m)"),
    "primary_year": ("小学需求峰值年份", "Primary peak year"),
    "primary_children": ("小学生数", "Primary children"),
    "primary_capacity": ("半径内现有小学学位", "Primary seats within radius"),
    "primary_distance_m": ("小学距离(m)", "Primary distance (m)"),
    "junior_radius_m": ("初中服务半径(m)", "Junior service radius (m)"),
    "junior_year": ("初中需求峰值年份", "Junior peak year"),
    "junior_children": ("初中生数", "Junior children"),
    "junior_capacity": ("半径内现有初中学位", "Junior seats within radius"),
    "junior_distance_m": ("初中距离(m)", "Junior distance (m)"),
    "demand_ok": ("服务需求充足", "Demand exists"),
    "demand_reason": ("服务需求说明", "Demand: reason"),
    "passed": ("核查通过", "Passes"),
    "phases": ("分期数", "Phases"),
    "households": ("户数", "Households"),
    "first_delivery_year": ("首期交付年份", "First phase delivered"),
    "school_parcel_id": ("配套学校地块", "Linked school parcel"),
    "primary_match": ("小学学位来源", "Primary place at"),
    "primary_match_kind": ("小学学位来源类型", "Primary place kind"),
    "primary_ok": ("小学学位落实", "Primary places"),
    "primary_reason": ("小学学位说明", "Primary: reason"),
    "junior_match": ("初中学位来源", "Junior place at"),
    "junior_match_kind": ("初中学位来源类型", "Junior place kind"),
    "junior_ok": ("初中学位落实", "Junior places"),
    "junior_reason": ("初中学位说明", "Junior: reason"),
    "sync_ok": ("三同步", "三同步 (school with first phase)"),
    "sync_reason": ("三同步说明", "三同步: reason"),
    "capacity": ("现有学位", "Seats in open schools"),
    "seat_shortfall": ("学位缺口", "Seat shortfall"),
    "reserved_seats": ("储备学位", "Reserved seats"),
    "parcels": ("储备地块", "Reserved parcels"),
    "reserve_ok": ("储备足够", "Reserve covers shortfall"),
    "reserve_reason": ("储备说明", "Reserve: reason"),
    "kind": ("类型", "Kind"),
    "target_id": ("学校或地块", "School or parcel"),
    "distance_m": ("距离(m)", "Distance (m)"),
    "children_moved": ("转学学生数", "Children moved"),
    "from_closed": ("其中来自撤并学校", "From the closed schools"),
    "knock_on": ("其中连带调整", "Knock-on moves"),
    "unplaced": ("新增无学位学生数", "Left without a place"),
    "mean_minutes_before": ("平均单程(分钟,撤并前)", "Mean minutes before"),
    "mean_minutes_after": ("平均单程(分钟,撤并后)", "Mean minutes after"),
    "mean_added_minutes": ("平均增加(分钟)", "Mean added minutes"),
    "max_added_minutes": ("最多增加(分钟)", "Most added minutes"),
    "max_minutes_after": ("撤并后最长单程(分钟)", "Longest trip after (minutes)"),
    "mean_added_metres": ("平均增加距离(m)", "Mean added distance (m)"),
    "max_added_metres": ("最多增加距离(m)", "Most added distance (m)"),
    "grades_1_3_pushed": ("1-3年级单程变长且超出时间标准", "Grade 1-3 pupils beyond the norm"),
    "grades_1_3_newly_beyond": ("其中原在时间标准内", "Of which newly beyond"),
    "new_boarders": ("新增寄宿需求(人)", "New boarders"),
    "receiving_schools": ("接收学校数", "Receiving schools"),
    "receiving_breaches": ("超班额接收学校数", "Receiving schools over a cap"),
    "receiving_large": ("达到{large}人及以上的接收学校数", "Receiving schools at {large}+"),
    "verdict": ("结论", "Verdict"),
    "from_school_id": ("原学校代码", "From school"),
    "to_school_id": ("转入学校代码", "To school"),
    "from_name": ("原学校", "From"),
    "to_name": ("转入学校", "To"),
    "grades_1_3": ("其中1-3年级", "Of which grades 1-3"),
    "grades_4_9": ("其中4-9年级", "Of which grades 4-9"),
    "minutes_before": ("撤并前单程(分钟)", "Minutes before"),
    "minutes_after": ("撤并后单程(分钟)", "Minutes after"),
    "added_minutes": ("增加(分钟)", "Added minutes"),
    "metres_before": ("撤并前距离(m)", "Metres before"),
    "metres_after": ("撤并后距离(m)", "Metres after"),
    "added_metres": ("增加距离(m)", "Added metres"),
    "band": ("单程时间段(分钟)", "Travel time (minutes)"),
    "band_start_minutes": ("时间段起点(分钟)", "Band start (minutes)"),
    "children_before": ("撤并前人数", "Children before"),
    "children_after": ("撤并后人数", "Children after"),
    "school_level": ("学校类型", "School type"),
    "load_before": ("撤并前在校(模型)", "Load before"),
    "load_after": ("撤并后在校(模型)", "Load after"),
    "received": ("净接收人数", "Net received"),
    "utilisation_before": ("撤并前学位使用率", "Utilisation before"),
    "utilisation_after": ("撤并后学位使用率", "Utilisation after"),
    "class_size_before": ("撤并前平均班额", "Mean class before"),
    "class_size_after": ("撤并后平均班额", "Mean class after"),
    "over_cap_before": ("撤并前超上限", "Over cap before"),
    "over_cap_after": ("撤并后超上限", "Over cap after"),
    "large_before": ("撤并前{large}人及以上", "{large}+ before"),
    "large_after": ("撤并后{large}人及以上", "{large}+ after"),
    "breach": ("超班额", "Breach"),
    "item": ("项目", "Item"),
    "before": ("撤并前", "Before"),
    "after": ("撤并后", "After"),
    "change": ("变化", "Change"),
    "land_area_m2": ("占地面积(㎡)", "Land (m²)"),
    "building_area_m2": ("建筑面积(㎡)", "Buildings (m²)"),
    "boarding_beds": ("寄宿床位", "Boarding beds"),
    "radius_m": ("服务半径(m)", "Service radius (m)"),
    "nearby_planned": ("半径内规划新建学校或储备地块", "Planned schools or parcels nearby"),
    "reuse": ("利用建议", "Reuse"),
    "rank": ("排序", "Rank"),
    "cell_id": ("网格编号", "Cell id"),
    "scenario": ("情景", "Scenario"),
    "year": ("年份", "Year"),
    **{f"grade_{g}": (f"{g}年级", f"Grade {g}") for g in range(1, 10)},
    "children": ("学龄儿童数", "Children"),
    "from_developments": ("其中新建住宅带来", "Of which from new developments"),
    "leaves_no_school": ("撤并后无该学段学校", "Leaves no school of level"),
    "reason": ("说明", "Reason"),
    "n_developments": ("已知生源的住宅分期数", "Phases with known enrolment"),
    "cv_mae": ("交叉验证平均绝对误差", "Cross-validated MAE"),
    "cv_deviance": ("交叉验证泊松偏差", "Cross-validated Poisson deviance"),
    "default_mae": ("默认生成率平均绝对误差", "Default-rate MAE"),
    "default_deviance": ("默认生成率泊松偏差", "Default-rate Poisson deviance"),
    "key": ("标准项", "Key"),
    "value": ("取值", "Value"),
    "source": ("依据", "Source"),
    "assumption": ("假设值", "Assumption"),
    "note": ("说明", "Note"),
    "school_id": ("学校代码", "School id"),
    "grades_estimated": ("分年级数据为估算", "Grades estimated from totals"),
    "name": ("名称", "Name"),
    "county_code": ("县(市、区)代码", "County code"),
    "township_code": ("乡镇(街道)代码", "Township code"),
    "county_name": ("县(市、区)名称", "County"),
    "township_name": ("乡镇(街道)名称", "Township"),
    "school_name": ("学校名称", "School"),
    "level": ("学段", "Level"),
    "setting": ("城乡", "Setting"),
    "grade": ("年级", "Grade"),
    "students": ("学生数", "Pupils"),
    "classes": ("班级数", "Classes"),
    "mean_class_size": ("平均班额", "Mean class size"),
    "cap": ("班额上限", "Class-size cap"),
    "classes_over_cap": ("超上限班级数", "Classes over cap"),
    "classes_large": ("{large}人及以上班级数（大班额，含超大班额）", "Classes of {large}+"),
    "classes_very_large": ("{very_large}人及以上超大班额班级数", "Classes of {very_large}+"),
    "school_classes_over_cap": ("全校超上限班级数", "School classes over cap"),
    "school_classes_large": ("全校{large}人及以上班级数", "School classes of {large}+"),
    "can_strike_off": ("可销号", "Can be struck off"),
    "schools": ("学校数", "Schools"),
    "schools_over_cap": ("有超上限班级的学校数", "Schools with classes over cap"),
    "schools_struck_off": ("可销号学校数", "Schools struck off"),
    "share_classes_over_cap": ("超上限班级占比", "Share of classes over cap"),
    "students_primary": ("小学学生数", "Primary pupils"),
    "students_junior": ("初中学生数", "Junior pupils"),
    "boarders": ("寄宿生数", "Boarders"),
    "base_funding": ("基准公用经费(元)", "Base funding (yuan)"),
    "floor_applied": ("按下限人数核定", "Small-school floor applied"),
    "floor_top_up": ("下限补足经费(元)", "Floor top-up (yuan)"),
    "boarding_supplement": ("寄宿生补助(元)", "Boarding supplement (yuan)"),
    "total_funding": ("公用经费合计(元)", "Total funding (yuan)"),
    "schools_floor": ("按下限核定学校数", "Schools on the floor"),
    "head_teachers": ("班主任数(每班1人)", "Head teachers (one a class)"),
    "head_teacher_allowance": ("班主任津贴(元/年)", "Head-teacher allowance (yuan a year)"),
    "small_school": ("小规模学校或教学点", "Small school or teaching point"),
    "required_by_ratio": ("按师生比核定", "Required by pupil ratio"),
    "required_by_class": ("按班师比核定", "Required by classes"),
    "teachers_required": ("应配教师数", "Teachers required"),
    "teachers": ("现有教师数", "Teachers present"),
    "shortfall": ("缺编数", "Shortfall"),
    "net_balance": ("县域余缺(现有-应配)", "Net balance (present - required)"),
    "teachers_listed": ("名册教师数", "Teachers listed"),
    "teachers_due": ("应交流教师数", "Teachers due for rotation"),
    "backbone_due": ("应交流骨干教师数", "Backbone teachers due"),
    "rotation_quota": ("交流轮岗人数下限", "Rotation quota"),
    "backbone_quota": ("其中骨干教师下限", "Backbone quota"),
    "backbone_enough": ("骨干教师足额", "Enough backbone teachers"),
    "stage": ("学段", "Stage"),
    "indicator": ("指标", "Indicator"),
    "resource": ("资源量(按学段分摊)", "Resource (stage share)"),
    "standard": ("标准值", "Standard"),
    "ratio": ("达标比", "Ratio to standard"),
    "met": ("达标", "Met"),
    "indicators_met": ("达标项数", "Indicators met"),
    "school_pass": ("学校达标", "School passes"),
    "schools_meeting": ("达标学校数", "Schools meeting"),
    "share_meeting": ("达标学校占比", "Share meeting"),
    "county_value": ("县域值", "County value"),
    "cv": ("差异系数", "Difference coefficient"),
    "cv_limit": ("差异系数上限", "Coefficient limit"),
    "cv_ok": ("差异系数达标", "Coefficient within limit"),
    "schools_passing": ("综合达标学校数", "Schools passing"),
    "share_passing": ("综合达标学校占比", "Share passing"),
    "required_share": ("要求占比", "Required share"),
    "all_cv_ok": ("各项差异系数均达标", "All coefficients within limits"),
    "stage_pass": ("学段通过", "Stage passes"),
    "county_pass": ("县域通过(资源配置)", "County passes (resources)"),
    "counties": ("县(市、区)数", "Counties"),
    "counties_passing": ("资源配置通过的县数", "Counties passing (resources)"),
    "share_counties_passing": ("资源配置通过的县占比", "Share of counties passing"),
    "target_share": ("目标占比", "Target share"),
    "counties_needed": ("达到目标需通过的县数", "Counties needed for the target"),
    "target_met": ("达到目标", "Target met"),
    "rural_schools": ("农村学校数", "Rural schools"),
    "boarding_staff": ("寄宿管理附加编制", "Boarding management staff"),
    "complies_now": ("现已达标", "Complies now"),
    "peak_year": ("峰值年份", "Peak year"),
    "peak_class_size": ("峰值平均班额", "Peak mean class"),
    "within_cap_from": ("预计达标年份", "Within the cap from"),
    "strike_off_year": ("销号年份", "Strike-off year"),
    "classes_to_add": ("需增班级数", "Classes to add"),
    "places_to_add": ("需增学位数", "Places to add"),
    "never_without_action": ("不采取措施无法达标", "Never complies without action"),
    "struck_off": ("已销号学校数", "Schools struck off"),
    "spending": ("一般公共预算教育支出(元)", "Education spending (yuan)"),
    "method": ("计算方法", "Method"),
    "rural_teachers": ("农村学校教师数", "Rural teachers"),
    "teacher_dormitory": ("有教师周转宿舍", "Has a teacher dormitory"),
    "lacks_dormitory": ("缺教师周转宿舍", "Lacks a teacher dormitory"),
    "rate": ("巩固率", "Rate"),
    "target": ("目标", "Target"),
    "per_pupil": ("生均教育支出(元)", "Spending per pupil (yuan)"),
    "spending_change": ("支出较上年变化(元)", "Spending change (yuan)"),
    "per_pupil_change": ("生均支出较上年变化(元)", "Per-pupil change (yuan)"),
    "spending_not_falling": ("支出未减少", "Spending not falling"),
    "per_pupil_not_falling": ("生均支出未减少", "Per pupil not falling"),
    "remaining": ("未销号学校数", "Schools remaining"),
    "urban_school_id": ("帮扶城市学校代码", "Urban partner id"),
    "urban_name": ("帮扶城市学校名称", "Urban partner"),
    "urban_county_code": ("帮扶学校所在县(市、区)代码", "Urban partner county"),
    "urban_level": ("帮扶学校学段", "Urban partner level"),
    "distance_km": ("直线距离(km)", "Distance (km)"),
    "paired": ("已结对", "Paired"),
    "quality_rule": ("优质学校认定", "Quality school rule"),
    "schools_reported": ("填报学校数", "Schools reporting"),
    "schools_with_canteen": ("有食堂学校数", "Schools with a canteen"),
    "share_with_canteen": ("有食堂学校占比", "Share with a canteen"),
    "schools_without_canteen": ("无食堂学校", "Schools without a canteen"),
    "canteen": ("食堂", "Canteen"),
    "disabled_pupils": ("随班就读残疾学生数", "Pupils with disabilities"),
    "needs_resource_classroom": ("应设资源教室", "Needs a resource classroom"),
    "resource_classroom": ("有资源教室", "Has a resource classroom"),
    "lacks_resource_classroom": ("缺资源教室", "Lacks a resource classroom"),
    "pupils": ("在校生数", "Pupils"),
    "migrant_pupils": ("随迁子女数", "Migrant pupils"),
    "left_behind_pupils": ("留守儿童数", "Left-behind pupils"),
    "share_left_behind": ("留守儿童占比", "Share left behind"),
    "left_behind_bedded": ("可优先寄宿的留守儿童数", "Left-behind pupils with a bed first"),
    "left_behind_beyond_beds": ("床位不足的留守儿童数", "Left-behind pupils beyond the beds"),
    "proposal_id": ("建议编号", "Proposal id"),
    "candidate_id": ("备选点编号", "Candidate id"),
    "candidate_kind": ("备选点类型", "Candidate kind"),
    "source_id": ("来源编号", "Source id"),
    "children_served": ("服务学生数", "Children served"),
    "minutes_saved": ("人均节省时间(分钟)", "Minutes saved per child"),
    "child_minutes_saved": ("合计节省时间(人·分钟)", "Child-minutes saved"),
    "land_m2": ("用地需求(m²)", "Land needed (m²)"),
    "solver": ("求解模型", "Solver"),
    "objective": ("目标值", "Objective"),
    "bound": ("最优界", "Bound"),
    "gap": ("最优性差距", "Gap"),
    "action": ("行动", "Action"),
    "facility_id": ("学校或校址", "School or site"),
    "classes_change": ("班数增减", "Classes added (+) or removed (-)"),
    "places_change": ("学位增减", "Places added (+) or removed (-)"),
    "capital_yuan": ("建设投资(元)", "Capital (yuan)"),
    "yearly_yuan": ("每年费用(元)", "Yearly cost (yuan)"),
    "land": ("用地", "Land"),
    "places": ("学位数", "Places"),
    "budget_yuan": ("年度投资上限(元)", "Yearly budget (yuan)"),
    "running_yuan": ("运行费用合计(元)", "Running cost (yuan)"),
    "objective_yuan": ("总费用现值(元)", "Present cost (yuan)"),
    "lower_bound_yuan": ("总费用下界(元)", "Proven lower bound (yuan)"),
    "seconds": ("求解时间(秒)", "Solve time (s)"),
    "closure_children_moved": ("撤并影响报告:转学学生", "Closure statement: children moved"),
    "closure_mean_minutes_after": (
        "撤并影响报告:撤并后平均单程(分钟)",
        "Closure statement: mean minutes after",
    ),
    "closure_grades_1_3_pushed": (
        "撤并影响报告:1-3年级超出标准",
        "Closure statement: grades 1-3 pushed beyond the norm",
    ),
    "closure_new_boarders": ("撤并影响报告:新增寄宿生", "Closure statement: new boarders"),
    "closure_verdict": ("撤并影响报告:结论", "Closure statement: verdict"),
    "road_m": ("距道路(m)", "To road (m)"),
    "seat_m": ("距乡镇驻地(m)", "To township seat (m)"),
    "school_m": ("距现有学校(m)", "To open school (m)"),
    "road_part": ("道路得分", "Road part"),
    "seat_part": ("驻地得分", "Seat part"),
    "services_part": ("公共服务得分", "Services part"),
    "reuse_bonus": ("闲置校舍加分", "Re-use bonus"),
    "score": ("适宜性得分", "Suitability score"),
    "tier": ("层级", "Tier"),
}

VALUES_ZH: dict[str, str] = {
    "every urban school": "全部城镇学校(无资源配置数据)",
    "passes the resource assessment": "资源配置达标的城镇学校",
    "harmless": "无超标影响",
    "harmful": "有超标影响",
    "refused": "不可撤并",
    "reserved": "储备",
    "approved": "已批准",
    "under_construction": "在建",
    "built": "已建成",
    "planned": "规划",
    "completed": "已竣工",
    "open": "在办",
    "closing": "拟撤并",
    "school": "现有学校",
    "parcel": "储备地块",
    "low": "低方案",
    "medium": "中方案",
    "high": "高方案",
    "fitted": "拟合值",
    "default": "默认值",
    "primary": "小学",
    "junior": "初中",
    "nine_year": "九年一贯制",
    "teaching_point": "教学点",
    "small_school": "小规模学校/教学点",
    "boarding_school": "乡镇寄宿制学校",
    "urban_school": "城镇新建学校",
    "campus": "闲置校舍",
    "seat": "乡镇驻地",
    "cluster": "学生聚集点",
    "urban": "城镇",
    "rural": "乡村",
    "teachers_above_standard": "每百名学生拥有高于规定学历教师数",
    "backbone_teachers": "每百名学生拥有县级以上骨干教师数",
    "pe_art_teachers": "每百名学生拥有体育、艺术专任教师数",
    "teaching_area_m2": "生均教学及辅助用房面积(m²)",
    "sports_area_m2": "生均体育运动场馆面积(m²)",
    "equipment_value_yuan": "生均教学仪器设备值(元)",
    "multimedia_rooms": "每百名学生拥有网络多媒体教室数",
    "build": "新建",
    "reuse": "利用闲置校舍",
    "expand": "扩建增班",
    "merge": "撤并",
    "close": "撤销",
    "bus": "校车接送",
    "boarding": "寄宿",
    "beyond_norm": "超出就学标准",
}

CODED = ("level", "setting", "stage", "indicator", "scenario", "source", "planned_level",
         "status", "kind", "primary_match_kind", "junior_match_kind", "verdict",
         "school_level", "candidate_kind", "tier", "urban_level", "quality_rule",
         "action")  # fmt: skip


def in_language(
    texts: Mapping[str, tuple[str, str]], key: str, lang: Lang, **values: object
) -> str:
    """Return the Chinese or English text of ``key`` from ``(zh, en)`` texts, filled in.

    The one pick-a-language helper: each module keeps its texts as ``key: (zh, en)`` and binds
    them once with ``functools.partial(in_language, TEXTS)``.

    Examples
    --------
    >>> texts = {"year": ("{year}年", "Year {year}")}
    >>> in_language(texts, "year", "zh", year=2025), in_language(texts, "year", "en", year=2025)
    ('2025年', 'Year 2025')
    """
    zh, en = texts[key]
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text


def separator(lang: Lang) -> str:
    """Return the separator between listed reasons: a Chinese or an English semicolon.

    Examples
    --------
    >>> separator("zh"), separator("en")
    ('；', '; ')
    """
    return "；" if lang == "zh" else "; "


def check_lang(lang: object) -> None:
    """Raise :class:`~layout.errors.ValidationError` unless ``lang`` is ``"zh"`` or ``"en"``."""
    if lang not in ("zh", "en"):
        raise ValidationError(f"lang must be 'zh' or 'en', got {lang!r}")


def header(column: str, lang: Lang) -> str:
    """Return the label of a column in ``lang``; the column name when it has none.

    Examples
    --------
    >>> header("land_ok", "zh")
    '用地规模达标'
    """
    return HEADERS[column][0 if lang == "zh" else 1] if column in HEADERS else column


def code_name(code: str, lang: Lang) -> str:
    """Return the name of a code (level, setting, status, kind): 小学 or primary, ...

    Examples
    --------
    >>> code_name("primary", "zh"), code_name("nine_year", "en")
    ('小学', 'nine-year')
    """
    return VALUES_ZH.get(code, code) if lang == "zh" else code.replace("_", "-")


def localise(
    tables: Mapping[str, pd.DataFrame], *, lang: Lang, profile: Profile
) -> dict[str, pd.DataFrame]:
    """Give result tables the headers of ``lang``; in Chinese also translate codes and yes/no.

    Parameters
    ----------
    tables
        Tables with the plain column names and codes of the analysis functions.
    lang
        ``"zh"`` translates headers, codes and booleans; ``"en"`` translates headers.
    profile
        The standards profile whose class sizes appear in some headers (``{large}``,
        ``{very_large}``).

    Returns
    -------
    dict of str to pandas.DataFrame

    Raises
    ------
    KeyError
        A column has no header in :data:`HEADERS` (add one there).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"county_code": ["210302"], "students": [10]})
    >>> from layout.standards import load_profile
    >>> list(localise({"t": table}, lang="zh", profile=load_profile())["t"].columns)
    ['县(市、区)代码', '学生数']
    """
    check_lang(lang)
    sizes = {"large": profile.large_class_min, "very_large": profile.very_large_class_min}
    return {name: _localised(t, lang, sizes=sizes) for name, t in tables.items()}


def _localised(table: pd.DataFrame, lang: Lang, *, sizes: Mapping[str, int]) -> pd.DataFrame:
    """Rename headers to ``lang``; in Chinese translate codes and booleans too.

    A column ``item`` holds the names of other columns (a long table of figures): its values
    are translated like headers.
    """
    out = table.reset_index(drop=True)
    if "item" in out.columns:
        out["item"] = [header(item, lang) for item in out["item"]]
    if lang == "zh":
        for col in out.columns:
            if col in CODED:
                out[col] = out[col].map(lambda v: VALUES_ZH.get(v, v))
            elif out[col].dtype == bool:
                out[col] = np.where(out[col].to_numpy(), "是", "否")
    pick = 0 if lang == "zh" else 1
    return out.rename(columns={c: HEADERS[c][pick].format(**sizes) for c in out.columns})
