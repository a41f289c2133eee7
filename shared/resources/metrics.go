package resources

// Custom CloudWatch metrics. The sweep function publishes them (embedded
// metric format in its log, or PutMetricData, which its role may call for
// this namespace only) and the CDK stack alarms on them.
const (
	// MetricNamespace is the CloudWatch namespace of every custom metric.
	MetricNamespace = "CarePost"
	// MetricOverdueUrgent is the number of urgent messages past their
	// acknowledgement deadline, published on every sweep (0 included, so a
	// gap means the sweep is not running).
	MetricOverdueUrgent = "OverdueUrgentMessages"
	// MetricDimensionTable is the one dimension of custom metrics; its value
	// is the table name (CAREPOST_TABLE), so two stages in one account do
	// not trip each other's alarms.
	MetricDimensionTable = "Table"
)
