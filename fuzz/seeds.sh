#!/usr/bin/env bash
# Make the fuzz targets' seed corpora in fuzz/seeds/ from real files: the templates ducha writes,
# a demo city's export and disbursement ledger, CSV as Excel and WPS save it (UTF-8 with BOM,
# GBK), voucher bundles as Windows zips them, the shipped division list, and API bodies as the
# integration tests send them. The seeds are committed; run this again when the layouts change.
#   fuzz/seeds.sh [PATH-TO-ducha]     (default: builds and uses target/debug/ducha)
set -euo pipefail
cd "$(dirname "$0")/.."
ducha="${1:-}"
if [ -z "$ducha" ]; then
  cargo build -q -p ducha
  ducha="${CARGO_TARGET_DIR:-target}/debug/ducha"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
seeds=fuzz/seeds
rm -rf "$seeds"
mkdir -p "$seeds"/{sheet,sheet_xlsx,bundle,id_number,regions,api_json}

# Workbooks: every template, and a demo town's households and the demo's ledger.
db="sqlite://$work/demo.db"
"$ducha" --db "$db" demo --households 300 >/dev/null
"$ducha" --db "$db" export template --out "$seeds/sheet/template-households.xlsx" >/dev/null
"$ducha" --db "$db" export help-template --out "$seeds/sheet/template-help.xlsx" >/dev/null
for kind in projects payments allocations postings attendance institutions; do
  "$ducha" --db "$db" export platform-template "$kind" --out "$seeds/sheet/template-$kind.xlsx" >/dev/null
done
"$ducha" --db "$db" export households --region 440781111 --out "$seeds/sheet/demo-haiyan.xlsx" >/dev/null
"$ducha" --db "$db" export payments --out "$seeds/sheet/demo-ledger.xlsx" >/dev/null

python3 - "$seeds" <<'PY'
import io, sys, zipfile, pathlib
seeds = pathlib.Path(sys.argv[1])
sheets = sorted((seeds / "sheet").glob("*.xlsx"))

# sheet_xlsx: each workbook as "name NUL content NUL …" (see fuzz/src/lib.rs).
for x in sheets:
    with zipfile.ZipFile(x) as z:
        parts = []
        for info in z.infolist():
            parts.append(info.filename.encode() + b"\0" + z.read(info))
        (seeds / "sheet_xlsx" / (x.stem + ".entries")).write_bytes(b"\0".join(parts))

# CSV as typed: UTF-8 with a BOM (Excel's "CSV UTF-8") and GBK (Excel and WPS in Chinese).
header = "户编号,所在村代码,所在村（居）,贫困户属性,主要致贫原因,其他致贫原因,识别日期,贫困户状态,住址,户联系电话,银行账号,不愁吃穿,义务教育有保障,基本医疗有保障,住房安全有保障,饮水安全有保障,成员序号,姓名,身份证号,与户主关系,性别,出生日期,文化程度,在校生状况,失学辍学原因,健康状况,劳动能力,参加基本医疗保险,成员联系电话"
rows = [
    "440781111210001,440781111210,春场村委会,一般贫困户,因病,缺技术,2016/3/1,帮扶中,春场村8号,13812345678,6217 0000 1111 2222,是,是,是,否,是,1,陈大文,44078119750607235x,户主,男,1975-06-07,初中,非在校生,,患有大病,丧失劳动能力,是,",
    ",,,,,,,,,,,,,,,,2,李小红,４４０７８１１９７８０２０３２３４５,配偶,女,19780203,小学,非在校生,,健康,有劳动能力,是,13912345678",
]
text = "\n".join([header] + rows) + "\n"
(seeds / "sheet" / "households-utf8.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
(seeds / "sheet" / "households-gbk.csv").write_bytes(text.replace("４４０７８１１９７８０２０３２３４５", "440781197802032345").encode("gbk"))
(seeds / "sheet" / "logs.csv").write_bytes("户编号,日期,帮扶责任人,地点,内容\n440781111210001,2017-10-20,冯志明,入户,核实收入\n".encode())

# Bundles: the ledger with two vouchers, deflated as Windows' 压缩文件夹 makes them (names in
# GBK, without the UTF-8 flag), stored as the import page packs them, and with macOS leftovers.
ledger = (seeds / "sheet" / "demo-ledger.xlsx").read_bytes()
def bundle(name, entries, method):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for n, data in entries:
            z.writestr(n, data)
    return buf.getvalue()
files = [("拨付台账.xlsx", ledger), ("凭证/回单0630.pdf", b"%PDF-1.4\n%%EOF\n"), ("凭证/回单0701.jpg", b"\xff\xd8\xff\xe0JFIF")]
(seeds / "bundle" / "stored-utf8.zip").write_bytes(bundle("s", files, zipfile.ZIP_STORED))
(seeds / "bundle" / "macos.zip").write_bytes(bundle("m", files + [("__MACOSX/._拨付台账.xlsx", b"junk"), (".DS_Store", b"x")], zipfile.ZIP_DEFLATED))
# Python writes non-ASCII names as UTF-8; write placeholders of the same length and put the GBK
# bytes in their place, as Windows' zip has them.
gbk = [(n.encode("gbk"), d) for n, d in files]
placeholders = [(("P%d" % i).ljust(len(n), "_"), d) for i, (n, d) in enumerate(gbk)]
raw = bundle("g", placeholders, zipfile.ZIP_DEFLATED)
for (p, _), (n, _) in zip(placeholders, gbk):
    raw = raw.replace(p.encode(), n)
(seeds / "bundle" / "windows-gbk.zip").write_bytes(raw)
(seeds / "bundle" / "ledger-csv.zip").write_bytes(bundle("c", [("台账.csv", "项目名称,所在镇（街）,拨付日期,金额（元）,收款单位,凭证文件\n海宴镇扶贫车间,海宴镇,2017-06-30,12000,海宴镇人民政府,回单.jpg\n".encode("gbk")), ("回单.jpg", b"\xff\xd8")], zipfile.ZIP_DEFLATED))

# ID numbers as typed.
def check(first17):
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(c) * k for c, k in zip(first17, w)) % 11]
ids = {
    "valid": "44078119750607235" + check("44078119750607235"),
    "lower-x": ("44078119800101001" + check("44078119800101001")).lower(),
    "fullwidth": "".join(chr(ord(c) + 0xFEE0) for c in "44078119780203234" + check("44078119780203234")),
    "spaces": "440781 19750607 235" + check("44078119750607235"),
    "fifteen": "440781750607235",
    "masked": "440781********2351",
    "bad-check": "440781197506072350",
    "bad-date": "440781197502302351",
}
for name, v in ids.items():
    (seeds / "id_number" / name).write_text(v)

# Bodies of the JSON API (as the integration tests send them).
bodies = {
    "household": '{"village_code": "440781111210", "household_type": "低保贫困户", "main_cause": "因病", "other_cause_1": "缺技术", "identified_on": "2017-03-01", "address": "春场村 8 号", "phone": "13812345678", "food_clothing": true, "compulsory_education": true, "basic_medical": true, "safe_housing": false, "safe_water": true}',
    "household-update": '{"version": 1, "village_code": "440781111210", "household_type": "一般贫困户", "main_cause": "因病", "identified_on": "2017-03-01"}',
    "member": '{"name": "陈大文", "id_number": "%s", "relation": "户主", "education": "初中", "school_stage": "非在校生", "health": "健康", "labour_ability": "有劳动能力", "medical_insurance": true}' % ids["valid"],
    "finance": '{"year": 2017, "household_size": "3", "wage_income": 12345, "business_income": "1000.50", "property_income": 0, "transfer_income": "200", "production_costs": "300", "declared_total_income": "13245.5", "living_expenditure": "8000"}',
    "change-exit": '{"kind": "exit", "year": 2017, "reason": "人均纯收入稳定超过标准", "effective_on": "2017-11-01"}',
    "change-add": '{"kind": "add_member", "member_reason": "出生", "reason": "新生儿落户", "member": {"name": "新生儿", "id_number": "%s", "relation": "之孙子", "education": "学龄前儿童", "school_stage": "非在校生", "health": "健康", "labour_ability": "无劳动能力", "medical_insurance": true}}' % ids["valid"],
    "change-split": '{"kind": "split", "member_ids": [12, 13], "reason": "结婚分户"}',
    "identification": '{"reason": "因病致贫，经评议公示", "household": {"village_code": "440781111210", "household_type": "一般贫困户", "main_cause": "因病", "identified_on": "2017-10-20", "food_clothing": true}, "head": {"name": "林新户", "id_number": "%s", "relation": "户主", "education": "初中", "school_stage": "非在校生", "health": "患有大病", "labour_ability": "丧失劳动能力", "medical_insurance": true}}' % ids["valid"],
    "decision": '{"comment": "同意"}',
    "plan": '{"year": 2017, "target_income": "8500", "cadre_id": 3, "categories": ["产业帮扶", "就业帮扶"]}',
    "measure": '{"delivered_on": "2017-10-08", "category": "产业帮扶", "description": "入股光伏扶贫项目", "amount": "3000", "income_generating": true, "project_id": 1}',
    "log": '{"visited_on": "2017-10-20", "content": "入户核实收入", "location": "入户", "cadre_id": 3}',
    "cadre": '{"name": "冯志明", "unit": "台山市农业局", "phone": "13800001111", "town_code": "440781111"}',
    "param": '{"value": 80}',
    "run": '{"region": "440781111"}',
    "exempt": '{"reason": "已核实，属误报"}',
    "posting": '{"name": "黄建国", "unit": "市农业局", "town_code": "440781111", "full_time": true, "started_on": "2017-01-03", "ended_on": ""}',
    "check-in": '{"on_date": "2017-11-06", "place": "海宴镇扶贫办", "latitude": "21.97", "longitude": "112.57"}',
    "institution": '{"name": "海宴镇卫生院", "district_code": "440781", "level": "乡镇卫生院", "one_stop_online": true, "online_since": "2017-06-01"}',
    "project": '{"name": "海宴镇扶贫车间", "kind": "扶贫车间", "place_code": "440781111", "unit": "海宴镇人民政府", "performance_target": "带动 1 户贫困户每户年增收 3000 元", "budget_city": 50000, "households": [{"number": "440781111210001", "expected_benefit": 3000}]}',
    "advance": '{"to": "审批"}',
    "notice": '{"stage": "审批", "noticed_on": "2017-05-02"}',
    "allocation": '{"source": "省级", "region_code": "440781", "amount": "12000", "allocated_on": "2017-03-01", "arrived_on": "2017-03-15"}',
    "transfer": '{"town_code": "440781111", "amount": "600.00", "on": "2017-04-01"}',
}
for name, v in bodies.items():
    (seeds / "api_json" / (name + ".json")).write_text(v)
PY

# Divisions: the shipped list, and a small one with a BOM.
cp data/regions-jiangmen.csv "$seeds/regions/jiangmen.csv"
printf '\xef\xbb\xbfcode,name,level,parent_code\n4407,江门市,city,44\n440781,台山市,district,4407\n440781111,海宴镇,town,440781\n440781111210,春场村委会,village,440781111\n' >"$seeds/regions/small.csv"

for d in "$seeds"/*/; do echo "$(basename "$d"): $(ls "$d" | wc -l) seeds, $(du -sk "$d" | cut -f1) KB"; done
